"""The state lock: one writer at a time, with who holds it, and stale-lock detection."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import msgspec

from descript_iac.errors import LockError, file_error

POLL = 0.2


class LockInfo(msgspec.Struct, frozen=True):
    lock_id: str
    host: str
    pid: int
    user: str
    command: str
    created_at: str

    @classmethod
    def of_this_process(cls, command: str) -> LockInfo:
        """A new holder: this host, process and user, running `command`, from now."""
        import getpass  # (a plan takes no lock: not imported at its start)

        return cls(
            lock_id=str(uuid.uuid4()),
            host=socket.gethostname(),
            pid=os.getpid(),
            user=getpass.getuser(),
            command=command,
            created_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )

    def describe(self) -> str:
        return (
            f"{self.user}@{self.host} pid {self.pid} running '{self.command}' since "
            f"{self.created_at} (lock id {self.lock_id})"
        )


def _pid_alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would end that process there: never call it a dead one
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class FileLock:
    def __init__(self, path: Path, found_by: str = "") -> None:
        self.path = path
        self.found_by = found_by  # the options that find the state, for force-unlock

    def holder(self) -> LockInfo | None:
        try:
            return LockInfo(**json.loads(self.path.read_text()))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError):
            # Half-written by a process that died while taking the lock.
            return LockInfo("unknown", "?", -1, "?", "?", "?")

    def stale(self, info: LockInfo) -> bool:
        """Whether `info`'s process is known to be gone (on this very host)."""
        return self._stale(info)

    def _stale(self, info: LockInfo) -> bool:
        return info.host == socket.gethostname() and info.pid > 0 and not _pid_alive(info.pid)

    def acquire(self, command: str, timeout: float = 0.0) -> LockInfo:
        info = LockInfo.of_this_process(command)
        deadline = time.monotonic() + timeout
        while True:
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                holder = self.holder()
                if holder is not None and self._stale(holder):
                    # Its process is gone on this very host: nobody can be writing.
                    self._break(holder)
                    continue
                if time.monotonic() >= deadline:
                    who = holder.describe() if holder else "another run"
                    raise LockError(
                        f"the state is locked by {who}. Wait for it, retry with "
                        "--lock-timeout SECONDS, or if it is truly gone run "
                        f"`descript-iac force-unlock {holder.lock_id if holder else 'LOCK_ID'}"
                        f"{self.found_by}`"
                    ) from None
                time.sleep(POLL)
                continue
            except OSError as exc:
                raise file_error(exc, "take the state lock", self.path) from None
            try:
                with os.fdopen(fd, "w") as handle:
                    json.dump(msgspec.structs.asdict(info), handle)
                    handle.flush()
                    os.fsync(handle.fileno())
            except OSError as exc:
                # A full disk must not leave an empty lock that nobody can identify.
                with contextlib.suppress(OSError):
                    self.path.unlink()
                raise file_error(exc, "take the state lock", self.path) from None
            return info

    def _break(self, holder: LockInfo) -> None:
        current = self.holder()
        if current == holder:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    def release(self, info: LockInfo) -> None:
        if self.holder() == info:
            self.path.unlink()

    def force_unlock(self, lock_id: str) -> LockInfo:
        holder = self.holder()
        if holder is None:
            raise LockError(f"{self.path}: the state is not locked")
        if holder.lock_id != lock_id:
            raise LockError(
                f"{self.path}: the lock id is {holder.lock_id}, not {lock_id}; nothing removed"
            )
        self.path.unlink()
        return holder
