"""The drive-wide rules for jobs in doubt, shared by every workspace that uses one Descript drive.

Matching a lost reply to its job is only unambiguous if no other POST that could have made a
look-alike job was in doubt at the same time, and if jobs other workspaces recorded are never
taken for ours. So, per drive:

- **Gates.** A POST holds its gate from before it is sent until its job id is known (or, after a
  lost reply, until its job is found or proven absent). A gate is keyed by what the job history
  can tell apart: a job on an existing project by (job type, project), a job that creates a
  project by its job type alone. While a gate is held nobody else sends a POST of that key. The
  holder's lock is an OS file lock (py-filelock: `flock` on POSIX, `LockFileEx` on Windows),
  released by the operating system when the process dies; the gate's
  record (the intent and the end of its window) stays behind, and until that window has passed
  nobody else sends a POST of that key, because its job could be taken for the dead run's.
- **Recorded jobs.** Every job id any workspace recorded is listed, and excluded from every other
  workspace's candidates.

`LocalDriveRegistry` keeps this under the user's cache directory (one machine); the PostgreSQL
backend keeps it in tables (every machine). Which drive a run's registry is, is the API's own
`drive_id`, whatever URL spelling or token reaches it (drive_identity.py).
"""

from __future__ import annotations

import abc
import contextlib
import hashlib
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import filelock

from descript_iac.state.oslock import process_lock


def gate_key(job_type: str, project_id: str | None) -> str:
    """What tells a job apart in the history: its project if it has one, else only its type."""
    return f"{job_type}@{project_id}" if project_id else f"{job_type}@new"


@dataclass(frozen=True)
class Blocked:
    """The gate is taken: by a live process (`until` None), or by a dead one's window."""

    key: str
    holder: str
    until: float | None


@dataclass
class Claim:
    key: str
    intent_id: str
    handle: Any = None  # the backend's hold on the gate


class DriveRegistry(abc.ABC):
    @abc.abstractmethod
    def claim(self, key: str, intent_id: str, window_end: float, now: float) -> Claim | Blocked:
        """Take the gate `key` for `intent_id` (whose job can appear until `window_end`)."""

    @abc.abstractmethod
    def extend(self, claim: Claim, window_end: float) -> None:
        """The POST went out again later (throttling, a retry): its window ends later."""

    @abc.abstractmethod
    def release(self, claim: Claim) -> None:
        """The intent's outcome is known: free the gate."""

    @abc.abstractmethod
    def leave(self, claim: Claim) -> None:
        """The run stops waiting for the intent's outcome (Ctrl-C, a doubt past its wait): let
        go of the gate, but keep its window, which blocks every other POST of the gate until it
        has passed, or until the intent is settled."""

    @abc.abstractmethod
    def settle(self, key: str, intent_id: str) -> None:
        """An intent of an earlier run was resolved: forget what its gate kept of it."""

    @abc.abstractmethod
    def recorded_jobs(self) -> frozenset[str]:
        """Every job id recorded by any workspace on the drive."""

    @abc.abstractmethod
    def record_jobs(self, job_ids: set[str]) -> None:
        """Add job ids this workspace recorded."""

    def close(self) -> None:  # noqa: B027 - most registries hold nothing to close
        """Release what the registry holds (gates still claimed are released)."""


class ReadOnlyDriveRegistry(DriveRegistry):
    """Reads what others recorded, changes nothing (`plan --refresh`)."""

    def __init__(self, inner: DriveRegistry) -> None:
        self.inner = inner

    def claim(self, key: str, intent_id: str, window_end: float, now: float) -> Claim | Blocked:
        return Blocked(key, "a read-only run", None)

    def extend(self, claim: Claim, window_end: float) -> None:
        pass

    def release(self, claim: Claim) -> None:
        pass

    def leave(self, claim: Claim) -> None:
        pass

    def settle(self, key: str, intent_id: str) -> None:
        pass

    def recorded_jobs(self) -> frozenset[str]:
        return self.inner.recorded_jobs()

    def record_jobs(self, job_ids: set[str]) -> None:
        pass

    def close(self) -> None:
        self.inner.close()


class MemoryDriveRegistry(DriveRegistry):
    """One process only (tests, `plan --refresh`): gates and jobs in memory."""

    def __init__(self) -> None:
        self.gates: dict[str, tuple[str, float]] = {}
        self.left: set[str] = set()  # gates kept only as the record of their window
        self.jobs: set[str] = set()

    def claim(self, key: str, intent_id: str, window_end: float, now: float) -> Claim | Blocked:
        held = self.gates.get(key)
        if held is not None and held[0] != intent_id:
            if key not in self.left:
                return Blocked(key, "this process", None)
            if held[1] > now:
                return Blocked(key, "an earlier intent of this process", held[1])
        self.left.discard(key)
        self.gates[key] = (intent_id, window_end)
        return Claim(key, intent_id)

    def leave(self, claim: Claim) -> None:
        if self.gates.get(claim.key, ("", 0.0))[0] == claim.intent_id:
            self.left.add(claim.key)

    def extend(self, claim: Claim, window_end: float) -> None:
        self.gates[claim.key] = (claim.intent_id, window_end)

    def release(self, claim: Claim) -> None:
        self.settle(claim.key, claim.intent_id)

    def settle(self, key: str, intent_id: str) -> None:
        if self.gates.get(key, ("", 0.0))[0] == intent_id:
            del self.gates[key]
            self.left.discard(key)

    def recorded_jobs(self) -> frozenset[str]:
        return frozenset(self.jobs)

    def record_jobs(self, job_ids: set[str]) -> None:
        self.jobs |= job_ids


class LocalDriveRegistry(DriveRegistry):
    """Every process on this machine: `<dir>/gates/*.lock|*.json` and `<dir>/jobs.txt`."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.gates = directory / "gates"
        self.gates.mkdir(parents=True, exist_ok=True)
        self.jobs_file = directory / "jobs.txt"
        self._jobs: set[str] = set()
        self._read_upto = 0
        self._held: dict[str, filelock.BaseFileLock] = {}  # gate key -> its held file lock

    @staticmethod
    def holds_anything(directory: Path) -> bool:
        """Whether a recorded job or a gate's record is kept in `directory`."""
        return (directory / "jobs.txt").exists() or any((directory / "gates").glob("*.json"))

    def _paths(self, key: str) -> tuple[Path, Path]:
        name = hashlib.sha256(key.encode()).hexdigest()[:24]
        return self.gates / f"{name}.lock", self.gates / f"{name}.json"

    def claim(self, key: str, intent_id: str, window_end: float, now: float) -> Claim | Blocked:
        lock_path, record_path = self._paths(key)
        if key in self._held:
            record = _read_json(record_path)
            if record and record.get("intent_id") != intent_id:
                return Blocked(key, "this process", None)
            lock = self._held[key]
        else:
            lock = process_lock(lock_path)
            try:
                lock.acquire(timeout=0)
            except filelock.Timeout:
                record = _read_json(record_path) or {}
                return Blocked(key, str(record.get("holder", "another process")), None)
            record = _read_json(record_path)
            if record and record.get("intent_id") != intent_id and record["window_end"] > now:
                lock.release()
                return Blocked(key, str(record.get("holder")), float(record["window_end"]))
            self._held[key] = lock
        self._write_record(record_path, key, intent_id, window_end)
        return Claim(key, intent_id, lock)

    def _write_record(self, path: Path, key: str, intent_id: str, window_end: float) -> None:
        holder = f"pid {os.getpid()} on {socket.gethostname()}"
        data = {"key": key, "intent_id": intent_id, "window_end": window_end, "holder": holder}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, path)

    def extend(self, claim: Claim, window_end: float) -> None:
        self._write_record(self._paths(claim.key)[1], claim.key, claim.intent_id, window_end)

    def release(self, claim: Claim) -> None:
        self.settle(claim.key, claim.intent_id)
        self.leave(claim)

    def leave(self, claim: Claim) -> None:
        lock = self._held.pop(claim.key, None)  # the record of its window stays
        if lock is not None:
            lock.release()

    def settle(self, key: str, intent_id: str) -> None:
        record_path = self._paths(key)[1]
        record = _read_json(record_path)
        if record and record.get("intent_id") == intent_id:
            with contextlib.suppress(FileNotFoundError):
                record_path.unlink()

    def recorded_jobs(self) -> frozenset[str]:
        try:
            with open(self.jobs_file, "rb") as handle:
                handle.seek(self._read_upto)
                data = handle.read()
        except FileNotFoundError:
            return frozenset(self._jobs)
        complete = data[: data.rfind(b"\n") + 1]  # a line still being written is read next time
        self._read_upto += len(complete)
        self._jobs.update(line for line in complete.decode().split("\n") if line)
        return frozenset(self._jobs)

    def record_jobs(self, job_ids: set[str]) -> None:
        new = job_ids - self.recorded_jobs()
        if not new:
            return
        data = "".join(f"{job_id}\n" for job_id in sorted(new)).encode()
        fd = os.open(self.jobs_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, data)  # one append: lines of concurrent writers never interleave
            os.fsync(fd)
        finally:
            os.close(fd)
        self._jobs |= new

    def close(self) -> None:
        for key in list(self._held):
            self._held.pop(key).release()


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None
    return data if isinstance(data, dict) else None
