"""Which gates and recorded jobs a run shares: those of its drive, as the API names it.

Two spellings of one API's URL (`127.0.0.1` and `localhost`, a trailing slash, an upper-case
host, a proxy) or two tokens of one drive reach the same job history, so they must share one
set of gates and one list of recorded jobs (drive.py). The URL cannot tell that; the API can:
every job reply carries the job's `drive_id`. So a run keys its registry by that drive id,
learnt once per token and URL spelling (from the newest job in the history, or the first job
reply) and remembered in the user's cache directory (`drive-ids.json`, mode 0600; a drive id
never changes for a token).

Until the drive is known (a drive with no job in the last 30 days), a run takes the gates of
its token instead (every spelling of one token shares them) and learns the drive from its
first job reply (then it takes the gates it holds in the drive's registry too); every run
also takes its token's gates when the drive is known, so a run of the same token still
learning its drive is never passed by. Gates and jobs written under the
old key (URL spelling and token) are still taken and read while they hold anything.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

from descript_iac.state.combined_drive import CombinedDriveRegistry
from descript_iac.state.drive import Blocked, Claim, DriveRegistry


def drive_key(drive_id: str, scope: str = "") -> str:
    """The registry name of a drive (a file name and a PostgreSQL key)."""
    return "drive-" + hashlib.sha256(f"{scope}\n{drive_id}".encode()).hexdigest()[:20]


def token_key(token_digest: str) -> str:
    """The registry name of a token whose drive is not known yet."""
    return f"token-{token_digest}"


class DriveIds:
    """The drive id learnt for each (URL spelling, token), kept in one JSON file (0600)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {k: v for k, v in data.items() if isinstance(v, str)}

    def get(self, key: str) -> str | None:
        return self._read().get(key)

    def put(self, key: str, drive_id: str) -> None:
        """Remember `drive_id` (best effort: losing it costs one request next time)."""
        data = self._read()
        if data.get(key) == drive_id:
            return
        data[key] = drive_id
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(json.dumps(data, indent=1))
            os.replace(tmp, self.path)


def combine(registries: list[DriveRegistry]) -> DriveRegistry:
    """Registries taken in order as one (each gate in all of them, jobs the union)."""
    first, *rest = registries
    return first if not rest else CombinedDriveRegistry(first, combine(rest))


class TokenDriveRegistry(DriveRegistry):
    """The gates of a token and, once the API has named its drive, of the drive too.

    `learn` returns the drive's registry once the drive is known (None before); it is asked
    again before each use until it answers. Then the gates this run holds are taken in the
    drive's registry too (unless another run of the drive holds one: it then stays the
    token's), and the jobs it recorded are recorded there."""

    def __init__(
        self,
        token: DriveRegistry,
        drive: DriveRegistry | None,
        learn: Callable[[], DriveRegistry | None],
    ) -> None:
        self.token = token
        self.drive = drive
        self._learn = learn
        self._both = CombinedDriveRegistry(token, drive) if drive is not None else None
        self._mine: set[str] = set()
        self._token_only: dict[tuple[str, str], tuple[Claim, float]] = {}  # claim, window end
        self._now = 0.0

    def _current(self) -> DriveRegistry:
        if self._both is None:
            drive = self._learn()
            if drive is not None:
                self.drive = drive
                self._both = CombinedDriveRegistry(self.token, drive)
                if self._mine:
                    drive.record_jobs(set(self._mine))
                self._widen(drive, self._both)
        return self._both or self.token

    def _widen(self, drive: DriveRegistry, both: DriveRegistry) -> None:
        """Take the gates held in the token's registry alone in the drive's too."""
        for (key, intent_id), (outer, end) in list(self._token_only.items()):
            _, inner = self._inner(outer)
            claimed = drive.claim(key, intent_id, end, self._now)
            if isinstance(claimed, Claim):
                outer.handle = (both, Claim(key, intent_id, (inner, claimed)))
                del self._token_only[(key, intent_id)]

    def claim(self, key: str, intent_id: str, window_end: float, now: float) -> Claim | Blocked:
        self._now = max(self._now, now)
        registry = self._current()
        claimed = registry.claim(key, intent_id, window_end, now)
        if isinstance(claimed, Blocked):
            return claimed
        outer = Claim(key, intent_id, (registry, claimed))
        if registry is self.token:
            self._token_only[(key, intent_id)] = (outer, window_end)
        return outer

    def _inner(self, claim: Claim) -> tuple[DriveRegistry, Claim]:
        registry, inner = claim.handle
        return registry, inner

    def extend(self, claim: Claim, window_end: float) -> None:
        registry, inner = self._inner(claim)
        registry.extend(inner, window_end)
        if (claim.key, claim.intent_id) in self._token_only:
            self._token_only[(claim.key, claim.intent_id)] = (claim, window_end)

    def release(self, claim: Claim) -> None:
        self._token_only.pop((claim.key, claim.intent_id), None)
        registry, inner = self._inner(claim)
        registry.release(inner)

    def leave(self, claim: Claim) -> None:
        self._token_only.pop((claim.key, claim.intent_id), None)
        registry, inner = self._inner(claim)
        registry.leave(inner)

    def settle(self, key: str, intent_id: str) -> None:
        self._current().settle(key, intent_id)

    def recorded_jobs(self) -> frozenset[str]:
        return self._current().recorded_jobs()

    def record_jobs(self, job_ids: set[str]) -> None:
        self._mine |= job_ids
        self._current().record_jobs(job_ids)

    def close(self) -> None:
        (self._both or self.token).close()
