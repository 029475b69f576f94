"""The PostgreSQL schema of the state backend, created and migrated by the tool itself.

`schema_version` lists the migrations applied. Each migration is a list of statements run in one
transaction, under a transaction-level advisory lock on the schema's name, so two runs that start
at once on an empty database do not both create it. A schema made by a newer descript-iac is
refused, never written to.

Tables (all in one schema, `descript_iac` unless the `state:` block names another):

- `states`: one row per state name: its lineage, serial and document (`document_text`, as the
  tool wrote it, and `document`, the jsonb generated from it, for queries). Its id is the second
  key of the state's advisory lock.
- `journals`, `journal_events`: the journal of the run in progress, one committed row per event.
- `holders`: who holds each state's lock (host, pid, user, command, since, backend pid).
- `drive_gates`, `drive_jobs`: the drive-wide rules for jobs in doubt (see pgdrive.py).
"""

from __future__ import annotations

from typing import Any, Literal

import psycopg
from psycopg import sql

from descript_iac import __version__
from descript_iac.errors import StateError

MIGRATIONS: list[list[str]] = [
    # 1: the first schema.
    [
        # The second keys of advisory locks (states and live sessions): one sequence, so a state
        # and a session never share a key; int4, as pg_advisory_lock(int4, int4) takes.
        "CREATE SEQUENCE {s}.lock_ids AS integer MINVALUE 1",
        """CREATE TABLE {s}.states (
            id integer PRIMARY KEY DEFAULT nextval('{s}.lock_ids'),
            name text NOT NULL UNIQUE,
            lineage text,
            serial bigint,
            document jsonb,
            updated_at timestamptz NOT NULL DEFAULT now()
        )""",
        """CREATE TABLE {s}.journals (
            state_id integer PRIMARY KEY REFERENCES {s}.states (id) ON DELETE CASCADE,
            journal_id text NOT NULL,
            lineage text NOT NULL,
            base_serial bigint NOT NULL,
            started_at timestamptz NOT NULL DEFAULT now()
        )""",
        """CREATE TABLE {s}.journal_events (
            state_id integer NOT NULL REFERENCES {s}.journals (state_id) ON DELETE CASCADE,
            seq integer NOT NULL,
            event jsonb NOT NULL,
            written_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (state_id, seq)
        )""",
        """CREATE TABLE {s}.holders (
            state_id integer PRIMARY KEY REFERENCES {s}.states (id) ON DELETE CASCADE,
            lock_id text NOT NULL,
            host text NOT NULL,
            pid integer NOT NULL,
            user_name text NOT NULL,
            command text NOT NULL,
            since text NOT NULL,
            backend_pid integer NOT NULL
        )""",
        """CREATE TABLE {s}.drive_gates (
            drive text NOT NULL,
            gate text NOT NULL,
            intent_id text NOT NULL,
            window_end double precision NOT NULL,
            holder text NOT NULL,
            holder_session integer,
            PRIMARY KEY (drive, gate)
        )""",
        """CREATE TABLE {s}.drive_jobs (
            drive text NOT NULL,
            job_id text NOT NULL,
            recorded_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
            recorded_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (drive, job_id)
        )""",
        "CREATE INDEX ON {s}.drive_jobs (drive, recorded_xid)",
    ],
    # 2: the document kept as the text the tool wrote (issue #29): PostgreSQL's own text of a
    # 28 MiB jsonb took 0.3 s to make on every read. `document` stays, for queries, generated
    # from the text: it cannot be written by hand and drift from it.
    [
        "ALTER TABLE {s}.states ADD COLUMN document_text text",
        "UPDATE {s}.states SET document_text = document::text",
        "ALTER TABLE {s}.states DROP COLUMN document",
        "ALTER TABLE {s}.states ADD COLUMN document jsonb "
        "GENERATED ALWAYS AS (document_text::jsonb) STORED",
    ],
]
LATEST = len(MIGRATIONS)


def _q(text: str, schema: str) -> sql.Composed:
    return sql.SQL(text).format(s=sql.Identifier(schema))


def _newer(where: str, schema: str, version: int) -> StateError:
    return StateError(
        f"PostgreSQL at {where}: schema {schema} was made by a newer descript-iac (schema version "
        f"{version}; this one knows up to {LATEST}). Nothing was changed: upgrade descript-iac."
    )


def check_version(version: int | None, schema: str, where: str) -> None:
    if version is not None and version > LATEST:
        raise _newer(where, schema, version)


def schema_version(
    conn: psycopg.Connection[Any], schema: str, where: str
) -> Literal["current", "older", "missing"]:
    try:
        row = conn.execute(_q("SELECT max(version) FROM {s}.schema_version", schema)).fetchone()
    except psycopg.errors.UndefinedTable:
        return "missing"
    version = row[0] if row else None
    check_version(version, schema, where)
    return "current" if version == LATEST else "older"


def ensure_schema(conn: psycopg.Connection[Any], schema: str, where: str) -> None:
    """Create the schema or apply the migrations it lacks, all in one transaction."""
    with conn.transaction():
        conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"descript-iac schema {schema}"],
        )
        conn.execute(_q("CREATE SCHEMA IF NOT EXISTS {s}", schema))
        conn.execute(
            _q(
                """CREATE TABLE IF NOT EXISTS {s}.schema_version (
                    version integer PRIMARY KEY,
                    applied_at timestamptz NOT NULL DEFAULT now(),
                    applied_by text NOT NULL
                )""",
                schema,
            )
        )
        row = conn.execute(_q("SELECT max(version) FROM {s}.schema_version", schema)).fetchone()
        current = (row[0] if row else None) or 0
        check_version(current, schema, where)
        for version in range(current + 1, LATEST + 1):
            for statement in MIGRATIONS[version - 1]:
                conn.execute(_q(statement, schema))
            conn.execute(
                _q("INSERT INTO {s}.schema_version (version, applied_by) VALUES (%s, %s)", schema),
                [version, f"descript-iac {__version__}"],
            )
