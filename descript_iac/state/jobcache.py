"""A cache of the job history (diskcache): stopped jobs never change, so they are kept for good;
list pages are kept briefly. It saves API calls on repeated plans and refreshes.

What it stores is scrubbed (`redact.scrub`) like every other file descript-iac writes: a reply
can echo a secret. It is only a cache: when the disk is full or read-only it turns itself off
for the rest of the run (logged) instead of failing the command.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import diskcache

from descript_iac.redact import scrub

log = logging.getLogger("descript_iac.jobcache")
T = TypeVar("T")

PAGE_TTL = 10.0  # seconds
FINISHED = frozenset({"stopped", "cancelled"})
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
        if job.get("job_state") in FINISHED:
            self._use(lambda c: c.set(f"job:{job['job_id']}", scrub(job)), None)

    def page(self, key: str) -> dict[str, Any] | None:
        value = self._use(lambda c: c.get(f"page:{key}"), None)
        return value if isinstance(value, dict) else None

    def remember_page(self, key: str, page: dict[str, Any]) -> None:
        self._use(lambda c: c.set(f"page:{key}", scrub(page), expire=PAGE_TTL), None)
        for job in page.get("data", []):
            self.remember(job)

    def close(self) -> None:
        self._use(lambda c: c.close(), None)
