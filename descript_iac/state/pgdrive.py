"""The drive-wide rules for jobs in doubt on PostgreSQL: every machine of a team sees them.

Same rules as `LocalDriveRegistry` (drive.py), in two tables:

- `drive_gates`: one row per (drive, gate key), the primary key being the unique constraint that
  allows one in-doubt POST per gate per drive. The row names the intent, the end of its window and
  the holder's session token. A session holds an advisory lock on (schema oid, its token) for as
  long as its connection lives, so whether a holder is alive is a question to `pg_locks`, which
  every role may read. A row whose holder's session died stays until its window end has passed,
  exactly like the local registry's records: until then its job could still appear, and a
  look-alike must not be sent.
- `drive_jobs`: every job id any workspace recorded on the drive, excluded from every other
  workspace's candidates. Read incrementally: each read remembers the oldest transaction still
  running at its snapshot (`pg_snapshot_xmin`), and the next read fetches rows written by that
  transaction or later, so a row committed late is never missed.
"""

from __future__ import annotations

import os
import socket

from descript_iac.state.drive import Blocked, Claim, DriveRegistry
from descript_iac.state.pgdatabase import Database, SchemaMissing

ALIVE = """EXISTS (SELECT 1 FROM pg_locks l
    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND l.classid::int8 = %(ns)s AND l.objid::int8 = g.holder_session)"""

CLAIM = f"""
INSERT INTO {{s}}.drive_gates AS g (drive, gate, intent_id, window_end, holder, holder_session)
VALUES (%(drive)s, %(gate)s, %(intent)s, %(end)s, %(holder)s, %(session)s)
ON CONFLICT (drive, gate) DO UPDATE SET intent_id = EXCLUDED.intent_id,
    window_end = EXCLUDED.window_end, holder = EXCLUDED.holder,
    holder_session = EXCLUDED.holder_session
  WHERE g.intent_id = EXCLUDED.intent_id AND g.holder_session = EXCLUDED.holder_session
     OR (g.window_end <= %(now)s AND (g.holder_session IS NULL OR NOT {ALIVE}))
RETURNING 1
"""
GATE = f"""
SELECT holder, window_end, holder_session, holder_session IS NOT NULL AND {ALIVE}
  FROM {{s}}.drive_gates g WHERE drive = %(drive)s AND gate = %(gate)s
"""
JOBS = """
SELECT pg_snapshot_xmin(pg_current_snapshot())::text,
       array(SELECT job_id FROM {s}.drive_jobs
              WHERE drive = %s AND recorded_xid >= %s::xid8)
"""


class PostgresDriveRegistry(DriveRegistry):
    def __init__(self, database: Database, drive: str) -> None:
        self.database = database
        self.drive = drive
        self._jobs: set[str] = set()
        self._since = "0"  # recorded_xid from which the next read fetches
        self._session: int | None = None
        self._held: set[str] = set()

    def holds_anything(self) -> bool:
        """Whether any gate or recorded job is kept under this drive name."""
        try:
            row = self.database.fetch_one(
                "SELECT EXISTS (SELECT 1 FROM {s}.drive_gates WHERE drive = %s)"
                " OR EXISTS (SELECT 1 FROM {s}.drive_jobs WHERE drive = %s)",
                [self.drive, self.drive],
            )
        except SchemaMissing:
            return False
        return bool(row and row[0])

    def _token(self) -> int:
        """This connection's session token, locked for as long as the connection lives."""
        if self._session is None:
            key = Database.lock_key(self.database.namespace())
            row = self.database.fetch_one("SELECT nextval('{s}.lock_ids')")
            self.database.fetch("SELECT pg_advisory_lock(%s, %s)", [key, row[0]])
            self._session = int(row[0])
        return self._session

    def _params(self, key: str, **extra: object) -> dict[str, object]:
        return {"drive": self.drive, "gate": key, "ns": self.database.namespace(), **extra}

    def claim(self, key: str, intent_id: str, window_end: float, now: float) -> Claim | Blocked:
        holder = f"pid {os.getpid()} on {socket.gethostname()}"
        params = self._params(
            key, intent=intent_id, end=window_end, holder=holder, session=self._token(), now=now
        )
        if self.database.fetch(CLAIM, params):
            self._held.add(key)
            return Claim(key, intent_id)
        row = self.database.fetch_one(GATE, self._params(key))
        if row is None:  # released in between: try again next round
            return Blocked(key, "another run", None)
        who, end, session, alive = row
        if alive and session == self._session:
            who = "this process"
        return Blocked(key, str(who), None if alive else float(end))

    def extend(self, claim: Claim, window_end: float) -> None:
        self.database.execute(
            "UPDATE {s}.drive_gates SET window_end = %s "
            "WHERE drive = %s AND gate = %s AND intent_id = %s",
            [window_end, self.drive, claim.key, claim.intent_id],
        )

    def release(self, claim: Claim) -> None:
        self.settle(claim.key, claim.intent_id)
        self._held.discard(claim.key)

    def leave(self, claim: Claim) -> None:
        self.database.execute(
            "UPDATE {s}.drive_gates SET holder_session = NULL "
            "WHERE drive = %s AND gate = %s AND intent_id = %s",
            [self.drive, claim.key, claim.intent_id],
        )
        self._held.discard(claim.key)

    def settle(self, key: str, intent_id: str) -> None:
        self.database.execute(
            "DELETE FROM {s}.drive_gates WHERE drive = %s AND gate = %s AND intent_id = %s",
            [self.drive, key, intent_id],
        )

    def recorded_jobs(self) -> frozenset[str]:
        try:
            since, job_ids = self.database.fetch_one(JOBS, [self.drive, self._since])
        except SchemaMissing:  # nothing was ever recorded here
            return frozenset(self._jobs)
        self._jobs.update(job_ids)
        self._since = since
        return frozenset(self._jobs)

    def record_jobs(self, job_ids: set[str]) -> None:
        new = job_ids - self.recorded_jobs()
        if not new:
            return
        self.database.migrate()
        self.database.execute(
            "INSERT INTO {s}.drive_jobs (drive, job_id) SELECT %s, unnest(%s::text[]) "
            "ON CONFLICT DO NOTHING",
            [self.drive, sorted(new)],
        )
        self._jobs |= new

    def close(self) -> None:
        """Gates still held stay as records of their windows: their holder is gone."""
        if not self._held or not self.database.connected:
            return
        self.database.execute(
            "UPDATE {s}.drive_gates SET holder_session = NULL "
            "WHERE drive = %s AND gate = ANY(%s) AND holder_session = %s",
            [self.drive, sorted(self._held), self._session],
        )
        self._held.clear()
