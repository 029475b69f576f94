"""The state lock on PostgreSQL: a session-level advisory lock, and a row naming its holder.

The lock is `pg_advisory_lock(schema oid, state id)`, the two-key form: the schema's oid and the
state's id (from the schema's `lock_ids` sequence) never collide between two schemas or two
names. It belongs to the holder's database session, so PostgreSQL releases it when that session
ends: a run that died (SIGKILL, OOM, a lost machine) never leaves a lock behind. The `holders`
row says who holds it (host, pid, user, command, since, backend pid); a row left by a dead run is
recognised because its backend no longer holds the lock (`pg_locks`), and is overwritten.
"""

from __future__ import annotations

import time

from descript_iac.errors import LockError
from descript_iac.state.lock import POLL, LockInfo
from descript_iac.state.pgdatabase import Database

HOLDER = """
SELECT h.lock_id, h.host, h.pid, h.user_name, h.command, h.since, h.backend_pid,
       (SELECT l.pid FROM pg_locks l
         WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND l.classid::int8 = %(ns)s AND l.objid::int8 = %(id)s
         LIMIT 1)
  FROM (SELECT 1) AS one LEFT JOIN {s}.holders h ON h.state_id = %(id)s
"""
CLAIM_ROW = """
INSERT INTO {s}.holders AS h (state_id, lock_id, host, pid, user_name, command, since, backend_pid)
VALUES (%s, %s, %s, %s, %s, %s, %s, pg_backend_pid())
ON CONFLICT (state_id) DO UPDATE SET lock_id = EXCLUDED.lock_id, host = EXCLUDED.host,
    pid = EXCLUDED.pid, user_name = EXCLUDED.user_name, command = EXCLUDED.command,
    since = EXCLUDED.since, backend_pid = EXCLUDED.backend_pid
"""


class AdvisoryLock:
    """The lock of one state (`where` names it in messages)."""

    def __init__(self, database: Database, where: str, found_by: str = "") -> None:
        self.database = database
        self.where = where
        self.found_by = found_by  # the options that find the state, for force-unlock

    def _key(self) -> int:
        return Database.lock_key(self.database.namespace())

    def acquire(self, state_id: int, command: str, timeout: float) -> LockInfo:
        key = self._key()
        deadline = time.monotonic() + timeout
        take = "SELECT pg_try_advisory_lock(%s, %s)"
        while not self.database.fetch_one(take, [key, state_id])[0]:
            if time.monotonic() >= deadline:
                raise LockError(self._held_by(state_id))
            time.sleep(POLL)
        info = LockInfo.of_this_process(command)
        self.database.execute(
            CLAIM_ROW,
            [state_id, info.lock_id, info.host, info.pid, info.user, command, info.created_at],
        )
        return info

    def release(self, state_id: int, info: LockInfo) -> None:
        if not self.database.connected:
            return  # the lock went with the connection
        self.database.execute(
            "DELETE FROM {s}.holders WHERE state_id = %s AND lock_id = %s",
            [state_id, info.lock_id],
        )
        self.database.fetch("SELECT pg_advisory_unlock(%s, %s)", [self._key(), state_id])

    def _holder(self, state_id: int) -> tuple[LockInfo | None, int | None, int | None]:
        """(the holder row, its backend pid, the backend pid that holds the lock now)."""
        ns = self.database.namespace()
        row = self.database.fetch_one(HOLDER, {"ns": ns, "id": state_id})
        lock_id, host, pid, user, command, since, backend_pid, locker = row
        info = LockInfo(lock_id, host, pid, user, command, since) if lock_id else None
        return info, backend_pid, locker

    def _held_by(self, state_id: int) -> str:
        info, backend_pid, locker = self._holder(state_id)
        if info is not None and locker is not None and backend_pid == locker:
            who = info.describe()
            unlock = f"`descript-iac force-unlock {info.lock_id}{self.found_by}`"
        else:
            who = f"a PostgreSQL session (backend pid {locker}) that named no holder"
            unlock = f"`descript-iac force-unlock LOCK_ID{self.found_by}`"
        return (
            f"{self.where} is locked by {who}. Wait for it, or retry with --lock-timeout "
            f"SECONDS. A run that died holds no lock (PostgreSQL ends it with its connection); "
            f"if that process hangs, {unlock} ends its database session."
        )

    def force_unlock(self, state_id: int, lock_id: str) -> str:
        info, backend_pid, locker = self._holder(state_id)
        if info is None:
            raise LockError(f"{self.where}: the state is not locked")
        if info.lock_id != lock_id:
            raise LockError(
                f"{self.where}: the lock id is {info.lock_id}, not {lock_id}; nothing removed"
            )
        self.database.execute(
            "DELETE FROM {s}.holders WHERE state_id = %s AND lock_id = %s", [state_id, lock_id]
        )
        if locker is None or locker != backend_pid:
            return (
                f"The lock of {info.describe()} was already released (PostgreSQL ends a lock "
                "with its holder's connection); removed its holder row."
            )
        self.database.fetch("SELECT pg_terminate_backend(%s, 5000)", [locker])
        return (
            f"Ended the database session of {info.describe()} (backend pid {locker}): its lock "
            "is released, and that process can write nothing more to the state."
        )
