"""More than one `serve` on one PostgreSQL server: the runs are kept there (every replica shows
and approves the same runs), and each workspace is reconciled by one replica at a time.

A replica owns a workspace while it holds a session-level advisory lock named for it on its own
connection; PostgreSQL releases the lock when that session ends, so a replica that dies (even by
SIGKILL) hands its workspaces over: another replica takes the lock at its next try (every
`reconciler.TAKEOVER_TRY` seconds). What the dead replica was applying is in the state's journal
and behind the drive gates; the new owner plans again and the apply resumes from there, exactly
once.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from descript_iac.controller.runs import Run
from descript_iac.state.pgdatabase import Database

SCHEMA = "descript_iac_controller"
SETUP = """
CREATE SCHEMA IF NOT EXISTS {s};
CREATE TABLE IF NOT EXISTS {s}.runs (
    seq bigserial PRIMARY KEY,
    id text UNIQUE NOT NULL,
    workspace text NOT NULL,
    doc jsonb NOT NULL
)
"""
SETUP_LOCK = 0x64657363  # serialises SETUP between replicas starting together


class PostgresRunBook:
    """The runs in PostgreSQL (the same interface as `runs.RunBook`)."""

    def __init__(self, url: str) -> None:
        self.db = Database(url, SCHEMA)
        with self.db.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [SETUP_LOCK])
            for statement in SETUP.split(";"):
                conn.execute(self.db.query(statement))

    def new(self, workspace: str, revision: str) -> Run:
        import uuid

        run = Run(id=uuid.uuid4().hex[:12], workspace=workspace, revision=revision)
        self.db.execute(
            "INSERT INTO {s}.runs (id, workspace, doc) VALUES (%s, %s, %s)",
            [run.id, workspace, json.dumps(run.model_dump(mode="json"))],
        )
        return run

    def get(self, run_id: str) -> Run | None:
        row = self.db.fetch_one("SELECT doc FROM {s}.runs WHERE id = %s", [run_id])
        return Run.model_validate(row[0]) if row else None

    def all(self) -> list[Run]:
        rows = self.db.fetch("SELECT doc FROM {s}.runs ORDER BY seq DESC")
        return [Run.model_validate(r[0]) for r in rows]

    @contextmanager
    def edit(self, run_id: str) -> Iterator[Run]:
        with self.db.transaction() as conn:
            query = self.db.query("SELECT doc FROM {s}.runs WHERE id = %s FOR UPDATE")
            row = conn.execute(query, [run_id]).fetchone()
            if row is None:
                raise KeyError(run_id)
            run = Run.model_validate(row[0])
            yield run
            update = self.db.query("UPDATE {s}.runs SET doc = %s WHERE id = %s")
            conn.execute(update, [json.dumps(run.model_dump(mode="json")), run_id])

    def last_revision(self, workspace: str) -> str | None:
        row = self.db.fetch_one(
            "SELECT doc->>'revision' FROM {s}.runs WHERE workspace = %s ORDER BY seq DESC LIMIT 1",
            [workspace],
        )
        return str(row[0]) if row else None


class Ownership:
    """Which workspaces this replica reconciles: one advisory lock per workspace, held on a
    connection of its own for as long as the replica lives."""

    def __init__(self, url: str) -> None:
        self.db = Database(url, SCHEMA)
        self._lock = threading.Lock()
        self._held: set[str] = set()

    @staticmethod
    def key(workspace: str) -> int:
        digest = hashlib.sha256(f"descript-iac controller {workspace}".encode()).digest()
        return int.from_bytes(digest[:8], "big", signed=True)

    def claim(self, workspace: str) -> bool:
        """Whether this replica owns `workspace` (taking it when no one does)."""
        with self._lock:
            if workspace in self._held:
                return True
            row = self.db.fetch_one("SELECT pg_try_advisory_lock(%s)", [self.key(workspace)])
            if row and row[0]:
                self._held.add(workspace)
                return True
            return False

    def owns(self, workspace: str) -> bool:
        with self._lock:
            return workspace in self._held

    def close(self) -> None:
        self.db.close()
