"""One PostgreSQL connection for a run: opened once, described without its secret, never reopened.

The state store and the drive registry of a run share this connection. The store's lock is a
session-level advisory lock held by it, so the connection is the lock: when it goes (the process
died, or someone ran `pg_terminate_backend`), PostgreSQL releases the lock, and this process must
not write another row. So a lost connection is never reopened: every later call raises the same
`ConnectionLost`, and the engine, which journals an event before each POST, stops sending.

The URL is a secret (it usually holds a password): it is registered with the redactor, kept out
of every message, and the database is described as `host:port/dbname`.
"""

from __future__ import annotations

import getpass
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from descript_iac.errors import LockLost, StateError
from descript_iac.redact import redact, register_url_secret
from descript_iac.state.pgschema import ensure_schema, schema_version

DEFAULT_SCHEMA = "descript_iac"
CONNECT_TIMEOUT = 15
# A holder whose machine vanishes (power cut, network partition) sends no FIN: TCP keepalives on
# both ends end its session, and with it the lock, within about a minute instead of the OS
# default of two hours. The server's side is set for this session only (startup options).
SERVER_KEEPALIVE = (
    "-c tcp_keepalives_idle=30 -c tcp_keepalives_interval=10 -c tcp_keepalives_count=3"
)


class ConnectionLost(LockLost):
    """The connection (and with it the state lock) is gone: nothing more may be written."""


class SchemaMissing(StateError):
    """The schema (or a table of it) does not exist: nothing was ever stored there."""


def describe_url(url: str) -> str:
    """`host:port/dbname`, without user, password or options."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.Error:
        return "an unreadable PostgreSQL URL"
    host = str(parts.get("host") or "localhost")
    port = str(parts.get("port") or "5432")
    dbname = str(parts.get("dbname") or parts.get("user") or getpass.getuser())
    return f"{host}:{port}/{dbname}"


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return redact(text[0] if text else type(exc).__name__)


class Database:
    """A lazily opened autocommit connection to one schema of one database."""

    def __init__(self, url: str, schema: str = DEFAULT_SCHEMA) -> None:
        register_url_secret(url)
        self._url = url
        self.schema = schema
        self.where = describe_url(url)
        self._conn: psycopg.Connection[tuple[Any, ...]] | None = None
        self._lost: ConnectionLost | None = None
        self._migrated = False
        self._namespace: int | None = None
        self._guard = threading.RLock()  # one statement or transaction at a time

    def __repr__(self) -> str:  # never the URL
        return f"Database({self.where}, schema={self.schema})"

    # --- the connection ---------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._conn is not None and self._lost is None

    def _connection(self) -> psycopg.Connection[tuple[Any, ...]]:
        if self._lost is not None:
            raise self._lost
        if self._conn is None:
            try:
                options = conninfo_to_dict(self._url).get("options")
                self._conn = psycopg.connect(
                    self._url,
                    autocommit=True,
                    application_name=f"descript-iac pid {os.getpid()}",
                    connect_timeout=CONNECT_TIMEOUT,
                    options=f"{options} {SERVER_KEEPALIVE}" if options else SERVER_KEEPALIVE,
                    keepalives=1,
                    keepalives_idle=30,
                    keepalives_interval=10,
                    keepalives_count=3,
                )
            except psycopg.Error as exc:
                raise StateError(
                    f"cannot connect to PostgreSQL at {self.where} ({_reason(exc)}). Check the "
                    "url of the workspace's `state:` block (or --backend-url) and that the "
                    "server is running."
                ) from None
        return self._conn

    def close(self) -> None:
        """End the session (and any lock it holds); this database is not used again."""
        with self._guard:
            if self._lost is None:
                self._lost = ConnectionLost(
                    f"the connection to PostgreSQL at {self.where} is closed"
                )
            if self._conn is not None:
                try:
                    self._conn.close()
                finally:
                    self._conn = None

    def __del__(self) -> None:
        # A library caller (or a test) may drop a store without closing it: end its session.
        conn = getattr(self, "_conn", None)
        if conn is not None and not conn.closed:
            conn.close()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except psycopg.errors.UndefinedTable:
            missing = f"PostgreSQL at {self.where}: schema {self.schema} is empty"
            raise SchemaMissing(missing) from None
        except psycopg.OperationalError as exc:
            # Killed (pg_terminate_backend), the server restarted, or the network went: the
            # lock went with the session. Never reconnect: another run may hold the lock now.
            if self._conn is not None and not self._conn.closed and not self._conn.broken:
                raise self._failed(exc) from None
            self._lost = ConnectionLost(
                f"the connection to PostgreSQL at {self.where} was lost ({_reason(exc)}). The "
                "state lock went with it, so nothing more is sent; every event recorded before "
                "is kept in the journal. Run the command again: it resumes from there."
            )
            raise self._lost from None
        except psycopg.Error as exc:
            raise self._failed(exc) from None

    def _failed(self, exc: BaseException) -> StateError:
        return StateError(f"PostgreSQL at {self.where}: {_reason(exc)}")

    # --- statements ---------------------------------------------------------------------

    def query(self, text: str) -> sql.Composed:
        """`text` with `{s}` standing for the schema (quoted)."""
        return sql.SQL(text).format(s=sql.Identifier(self.schema))

    def fetch(self, statement: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Any]:
        with self._guard, self._errors():
            return self._connection().execute(self.query(statement), params).fetchall()

    def fetch_one(self, statement: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        rows = self.fetch(statement, params)
        return rows[0] if rows else None

    def execute(self, statement: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        with self._guard, self._errors():
            return self._connection().execute(self.query(statement), params).rowcount

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
        """Statements that commit together or not at all."""
        with self._guard, self._errors():
            conn = self._connection()
            with conn.transaction():
                yield conn

    # --- the schema ----------------------------------------------------------------------

    def migrate(self) -> None:
        """Create or upgrade the schema (once per connection)."""
        if self._migrated:
            return
        with self._guard, self._errors():
            conn = self._connection()
            if schema_version(conn, self.schema, self.where) != "current":
                ensure_schema(conn, self.schema, self.where)
            self._migrated = True

    def namespace(self) -> int:
        """The schema's oid: the first key of every advisory lock this tool takes in it, so two
        schemas never share a lock; the second key comes from the schema's `lock_ids`."""
        if self._namespace is None:
            self.migrate()
            row = self.fetch_one(
                "SELECT oid::int8 FROM pg_namespace WHERE nspname = %s", [self.schema]
            )
            self._namespace = int(row[0])
        return self._namespace

    @staticmethod
    def lock_key(namespace: int) -> int:
        """The oid as the signed int4 that pg_advisory_lock(int4, int4) takes."""
        return namespace - 2**32 if namespace >= 2**31 else namespace
