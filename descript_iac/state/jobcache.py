"""A cache of finished jobs (diskcache): a stopped or cancelled job never changes, so it is kept
for good. It saves API calls on repeated plans, refreshes and polls. Lists of jobs are never
cached: a job history read a few seconds ago can miss the job a decision depends on."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import diskcache

from descript_iac.timing import FINISHED_STATES


class JobCache:
    def __init__(self, directory: Path, api_url: str) -> None:
        # One cache per API base URL: job ids of the emulator and of Descript never mix.
        scope = hashlib.sha256(api_url.encode()).hexdigest()[:12]
        self._cache = diskcache.Cache(str(directory / scope), size_limit=256 * 1024 * 1024)

    def job(self, job_id: str) -> dict[str, Any] | None:
        value = self._cache.get(f"job:{job_id}")
        return value if isinstance(value, dict) else None

    def remember(self, job: dict[str, Any]) -> None:
        if job.get("job_state") in FINISHED_STATES:
            self._cache.set(f"job:{job['job_id']}", job)

    def close(self) -> None:
        self._cache.close()
