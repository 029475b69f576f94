"""A cache of the job history (diskcache): stopped jobs never change, so they are kept for good;
list pages are kept briefly. It saves API calls on repeated plans and refreshes."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import diskcache

PAGE_TTL = 10.0  # seconds
FINISHED = frozenset({"stopped", "cancelled"})


class JobCache:
    def __init__(self, directory: Path, api_url: str) -> None:
        # One cache per API base URL: job ids of the emulator and of Descript never mix.
        scope = hashlib.sha256(api_url.encode()).hexdigest()[:12]
        self._cache = diskcache.Cache(str(directory / scope), size_limit=256 * 1024 * 1024)

    def job(self, job_id: str) -> dict[str, Any] | None:
        value = self._cache.get(f"job:{job_id}")
        return value if isinstance(value, dict) else None

    def remember(self, job: dict[str, Any]) -> None:
        if job.get("job_state") in FINISHED:
            self._cache.set(f"job:{job['job_id']}", job)

    def page(self, key: str) -> dict[str, Any] | None:
        value = self._cache.get(f"page:{key}")
        return value if isinstance(value, dict) else None

    def remember_page(self, key: str, page: dict[str, Any]) -> None:
        self._cache.set(f"page:{key}", page, expire=PAGE_TTL)
        for job in page.get("data", []):
            self.remember(job)

    def close(self) -> None:
        self._cache.close()
