"""A cache of finished jobs (diskcache): a stopped or cancelled job never changes, so it is kept
for good. It saves API calls on repeated plans, refreshes and polls; it also keeps how long each
job type ran lately (`run_times`), for the next apply's first polls. Lists of jobs are never
cached: a job history read a few seconds ago can miss the job a decision depends on.

What it stores is scrubbed (`redact.scrub`) like every other file descript-iac writes: a reply
can echo a secret. It is only a cache: when the disk is full or read-only it turns itself off
for the rest of the run (logged) instead of failing the command.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import diskcache

from descript_iac.redact import scrub
from descript_iac.timing import FINISHED_STATES

log = logging.getLogger("descript_iac.jobcache")
T = TypeVar("T")

# A learnt run time longer than this is not kept (a job left running for days says nothing of
# how long the next one takes).
MAX_RUN_TIME = 6 * 3600.0
# What a cache on a full, read-only or broken disk raises.
FAILURES = (OSError, sqlite3.Error, diskcache.Timeout)


class JobCache:
    def __init__(self, directory: Path, api_url: str) -> None:
        # One cache per API base URL: job ids of the emulator and of Descript never mix.
        scope = hashlib.sha256(api_url.encode()).hexdigest()[:12]
        self._where = directory / scope
        self._cache: diskcache.Cache | None = None
        try:
            self._cache = diskcache.Cache(str(self._where), size_limit=256 * 1024 * 1024)
        except FAILURES as exc:
            self._off(exc)

    def _off(self, exc: BaseException) -> None:
        log.warning("job cache %s turned off for this run: %s", self._where, exc)
        cache, self._cache = self._cache, None
        if cache is not None:
            with contextlib.suppress(*FAILURES):
                cache.close()

    def _use(self, action: Callable[[diskcache.Cache], T], default: T) -> T:
        if self._cache is None:
            return default
        try:
            return action(self._cache)
        except FAILURES as exc:
            self._off(exc)
            return default

    def job(self, job_id: str) -> dict[str, Any] | None:
        value = self._use(lambda c: c.get(f"job:{job_id}"), None)
        return value if isinstance(value, dict) else None

    def remember(self, job: dict[str, Any]) -> None:
        if job.get("job_state") in FINISHED_STATES:
            self._use(lambda c: c.set(f"job:{job['job_id']}", scrub(job)), None)

    def run_times(self) -> dict[str, float]:
        """How long each job type ran lately on this API (learnt by earlier applies), so the
        first poll of a run's first job comes when it can first be over (issue #26)."""
        value = self._use(lambda c: c.get("run_times"), None)
        if not isinstance(value, dict):
            return {}
        return {
            str(k): float(v)
            for k, v in value.items()
            if isinstance(v, (int, float)) and math.isfinite(v) and 0 <= v <= MAX_RUN_TIME
        }

    def keep_run_times(self, runs: dict[str, float]) -> None:
        if runs:
            self._use(lambda c: c.set("run_times", {**self.run_times(), **runs}), None)

    def close(self) -> None:
        self._use(lambda c: c.close(), None)
