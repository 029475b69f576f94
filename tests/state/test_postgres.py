"""What is particular to the PostgreSQL store: its schema, committed rows, one-transaction folds,
locks keyed by (schema, name), a connection that is killed, and a URL that stays secret."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest

from descript_iac.errors import LockError, LockLost, StateError
from descript_iac.state.document import Intent, StateDocument
from descript_iac.state.events import IntentOpened, ProjectForgotten
from descript_iac.state.pgdatabase import Database
from descript_iac.state.pgschema import LATEST
from descript_iac.state.postgres import PostgresStateStore
from tests.postgres_server import PostgresServer


def store(url: str, name: str = "shows", schema: str = "descript_iac") -> PostgresStateStore:
    return PostgresStateStore(Database(url, schema), name)


def intent(intent_id: str) -> Intent:
    return Intent(
        intent_id=intent_id,
        action="create",
        fingerprint="sha256:x",
        sent_at=5.0,
        job_type="import/project_media",
    )


def sql(url: str, text: str, params: Any = ()) -> list[Any]:
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(text, params)
        return cursor.fetchall() if cursor.description else []


def test_the_tool_creates_its_schema_with_a_version_and_refuses_a_newer_one(pg_url: str) -> None:
    shows = store(pg_url)
    assert not shows.exists() and shows.read().serial == 0  # reading creates nothing
    assert sql(pg_url, "SELECT 1 FROM pg_namespace WHERE nspname = 'descript_iac'") == []
    with shows.lock("apply"):
        shows.commit(StateDocument())
    assert sql(pg_url, "SELECT max(version) FROM descript_iac.schema_version") == [(LATEST,)]
    tables = {
        row[0]
        for row in sql(pg_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'descript_iac'")
    }
    assert {
        "states",
        "journals",
        "journal_events",
        "holders",
        "drive_gates",
        "drive_jobs",
    } <= tables
    sql(pg_url, "INSERT INTO descript_iac.schema_version VALUES (99, now(), 'a newer tool')")
    with pytest.raises(StateError, match=r"made by a newer descript-iac .*schema version 99"):
        store(pg_url).read()
    with pytest.raises(StateError, match="newer descript-iac"), store(pg_url).lock("apply"):
        pass


def test_each_event_is_a_committed_row_before_append_returns(pg_url: str) -> None:
    shows = store(pg_url)
    with shows.lock("apply"):
        shows.begin(StateDocument())
        for n in range(3):
            shows.append(ProjectForgotten(address=f"p{n}"))
            # Another connection sees the row at once: it is committed, not pending.
            rows = sql(pg_url, "SELECT count(*) FROM descript_iac.journal_events")
            assert rows == [(n + 1,)]
        shows.discard()
    assert sql(pg_url, "SELECT count(*) FROM descript_iac.journal_events") == [(0,)]


def test_the_fold_and_the_serial_bump_are_one_transaction(pg_url: str) -> None:
    shows = store(pg_url)
    with shows.lock("apply"):
        shows.commit(StateDocument())
    # Make the journal's removal fail: the document must not move either.
    sql(
        pg_url,
        """CREATE FUNCTION public.refuse() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$""",
    )
    sql(
        pg_url,
        "CREATE TRIGGER refuse BEFORE DELETE ON descript_iac.journals "
        "FOR EACH ROW EXECUTE FUNCTION public.refuse()",
    )
    doc = shows.read()
    with shows.lock("apply"):
        shows.begin(doc)
        shows.append(ProjectForgotten(address="p"))
        with pytest.raises(StateError, match="refused by the test"):
            shows.commit(doc)
    assert sql(pg_url, "SELECT serial FROM descript_iac.states") == [(1,)]
    assert sql(pg_url, "SELECT count(*) FROM descript_iac.journal_events") == [(1,)]


def test_locks_of_two_names_or_two_schemas_never_collide(pg_url: str) -> None:
    with (
        store(pg_url, "shows").lock("apply"),
        store(pg_url, "ads").lock("apply"),
        store(pg_url, "shows", schema="team_b").lock("apply"),
    ):
        with pytest.raises(LockError, match="postgresql state 'shows' on"), store(pg_url).lock("x"):
            pass
        team_b = store(pg_url, "shows", schema="team_b")
        with pytest.raises(LockError, match=r"'shows' \(schema team_b\)"), team_b.lock("plan"):
            pass


def test_the_holder_row_names_who_holds_the_lock(pg_url: str) -> None:
    import getpass
    import os
    import socket

    shows = store(pg_url)
    with shows.lock("apply shows/") as info:
        rows = sql(
            pg_url,
            "SELECT lock_id, host, pid, user_name, command, backend_pid FROM descript_iac.holders",
        )
        assert [row[:5] for row in rows] == [
            (info.lock_id, socket.gethostname(), os.getpid(), getpass.getuser(), "apply shows/")
        ]
        # The row names the very database session that holds the lock (a live one of ours).
        holder = sql(
            pg_url,
            "SELECT application_name FROM pg_stat_activity WHERE pid = %s",
            [rows[0][5]],
        )
        assert holder == [(f"descript-iac pid {os.getpid()}",)]
    assert sql(pg_url, "SELECT count(*) FROM descript_iac.holders") == [(0,)]


@contextmanager
def _holding_a_journal(pg_url: str) -> Iterator[tuple[PostgresStateStore, StateDocument]]:
    """A store holding the lock, its journal begun with one intent opened (at `before`)."""
    shows = store(pg_url)
    with shows.lock("apply"):
        shows.commit(StateDocument())
    doc = shows.read()
    with shows.lock("apply"):
        shows.begin(doc)
        shows.append(IntentOpened(address="before", intent=intent("i-before")))
        yield shows, doc


def test_a_killed_connection_stops_every_write_and_loses_nothing(pg_url: str) -> None:
    with _holding_a_journal(pg_url) as (shows, doc):
        backend = sql(pg_url, "SELECT backend_pid FROM descript_iac.holders")[0][0]
        assert sql(pg_url, "SELECT pg_terminate_backend(%s, 5000)", [backend]) == [(True,)]
        with pytest.raises(LockLost, match=r"connection to PostgreSQL at .* was lost"):
            shows.append(IntentOpened(address="after", intent=intent("i-after")))
        # Never reconnected: every later write fails the same way.
        with pytest.raises(LockLost):
            shows.append(ProjectForgotten(address="later"))
        with pytest.raises(LockLost):
            shows.commit(doc)
        # Meanwhile the lock is free for the next run, which folds what was recorded.
        nxt = store(pg_url)
        with nxt.lock("apply"):
            recovered = nxt.recover()
    assert recovered.serial == 2
    assert [i.intent_id for i in recovered.projects["before"].intents] == ["i-before"]
    assert "after" not in recovered.projects
    assert sql(pg_url, "SELECT count(*) FROM descript_iac.journal_events") == [(0,)]
    folded = sql(pg_url, "SELECT document->>'folded_journal' FROM descript_iac.states")[0][0]
    assert folded is not None


def test_a_session_other_than_the_lock_holders_writes_no_journal_row(pg_url: str) -> None:
    """Behind a transaction pool (PgBouncer in transaction mode) another server session may
    answer a store's statements: the lock is then not ours, and no event may be recorded as if
    it were (the caller would go on to send the POST it announces)."""
    with _holding_a_journal(pg_url) as (shows, _doc):
        # What a pooler does: the same client connection, another server session.
        shows.database._conn = psycopg.connect(pg_url, autocommit=True)
        with pytest.raises(LockLost, match=r"session that holds the lock .* PgBouncer"):
            shows.append(IntentOpened(address="after", intent=intent("i-after")))
    assert sql(pg_url, "SELECT count(*) FROM descript_iac.journal_events") == [(1,)]


def test_the_url_and_its_password_never_reach_a_message(
    pg_url: str, postgres_server: PostgresServer
) -> None:
    password = postgres_server.password
    shows = store(pg_url)
    assert password not in shows.location() and "postgres:" not in shows.location()
    assert shows.location() == (
        f"postgresql state 'shows' on 127.0.0.1:{postgres_server.port}/{pg_url.rsplit('/', 1)[1]}"
    )
    wrong = pg_url.replace(password, "not-the-password")
    with pytest.raises(StateError) as info:
        store(wrong).read()
    text = info.value.render()
    assert "password authentication failed" in text
    assert "not-the-password" not in text and password not in text
    assert "cannot connect to PostgreSQL at 127.0.0.1" in text


def test_a_vanished_holder_is_noticed_within_a_minute_not_two_hours(pg_url: str) -> None:
    """Without a FIN (a power cut, a partition) only TCP keepalives end a session: both ends of
    the store's connection use them, so the lock cannot stick for the OS default of 2 hours."""
    shows = store(pg_url)
    with shows.lock("apply"):
        settings = {
            name: shows.database.fetch_one(f"SHOW {name}")[0]
            for name in ("tcp_keepalives_idle", "tcp_keepalives_interval", "tcp_keepalives_count")
        }
    assert settings == {
        "tcp_keepalives_idle": "30",
        "tcp_keepalives_interval": "10",
        "tcp_keepalives_count": "3",
    }


def test_a_schema_1_database_is_migrated_with_its_state_kept(pg_url: str) -> None:
    """A team's database made by the release before the text column (schema 1) is upgraded on
    the next run: the document it held reads back the same, and is written on as before."""
    from descript_iac.state.pgschema import MIGRATIONS

    doc = StateDocument()
    doc.project("ep").project_id = "0000beef-0000-4000-8000-00000000beef"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA descript_iac")
        conn.execute(
            "CREATE TABLE descript_iac.schema_version (version integer PRIMARY KEY, "
            "applied_at timestamptz NOT NULL DEFAULT now(), applied_by text NOT NULL)"
        )
        for statement in MIGRATIONS[0]:
            conn.execute(statement.format(s="descript_iac"))
        conn.execute("INSERT INTO descript_iac.schema_version VALUES (1, now(), 'old')")
        conn.execute(
            "INSERT INTO descript_iac.states (name, lineage, serial, document) "
            "VALUES ('shows', %s, 3, %s)",
            [doc.lineage, psycopg.types.json.Jsonb({**doc.to_json(), "serial": 3})],
        )
    shows = store(pg_url)
    with shows.lock("apply"):  # taking the lock migrates
        read = shows.read()
        assert read.project("ep").project_id == doc.project("ep").project_id
        assert read.serial == 3 and read.lineage == doc.lineage
        shows.commit(read)
    assert sql(pg_url, "SELECT max(version) FROM descript_iac.schema_version") == [(LATEST,)]
    assert store(pg_url).read().serial == 4
    assert sql(pg_url, "SELECT document->>'serial' FROM descript_iac.states") == [("4",)]


def test_the_queryable_document_cannot_drift_from_the_stored_text(pg_url: str) -> None:
    """`document` (jsonb, for queries) is generated from what the tool wrote: an UPDATE of it
    by hand is refused by PostgreSQL instead of leaving the two apart."""
    shows = store(pg_url)
    with shows.lock("apply"):
        shows.commit(StateDocument())
    with pytest.raises(psycopg.errors.GeneratedAlways):
        sql(pg_url, "UPDATE descript_iac.states SET document = '{}'::jsonb")
