"""Refresh many in-flight jobs with few requests.

One round lists the job history (filtered by type when all jobs share one, and by a time window
that starts just before the oldest job was sent), 100 jobs a page, stopping as soon as every
wanted job was seen; only jobs the list did not return are fetched one by one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from descript_iac.api.client import DescriptClient
from descript_iac.api.models import Job

PAGE = 100
SKEW = 300.0  # seconds of clock difference we allow between this machine and the API
LOOKBACK = 30 * 86_400.0 - 3600.0  # the API refuses more than 30 days back


@dataclass(frozen=True)
class InFlight:
    job_id: str
    job_type: str
    sent_at: float  # this machine's clock, just before the POST


class BatchPoller:
    def __init__(self, client: DescriptClient, wall_clock: Callable[[], float] = time.time) -> None:
        self.client = client
        self._wall = wall_clock

    def refresh(self, jobs: Mapping[str, InFlight]) -> dict[str, Job]:
        """The current status of each job in `jobs` (by id)."""
        if not jobs:
            return {}
        wanted = set(jobs)
        found: dict[str, Job] = {}
        types = {j.job_type for j in jobs.values()}
        now = self._wall()
        after = max(min(j.sent_at for j in jobs.values()) - SKEW, now - LOOKBACK)
        # Enough pages for every wanted job, plus one for jobs others created meanwhile.
        max_pages = math.ceil(len(wanted) / PAGE) + 1
        job_type = next(iter(types)) if len(types) == 1 else None
        for job in self.client.iter_jobs(
            max_pages=max_pages, job_type=job_type, limit=PAGE, created_after=after
        ):
            if job.job_id in wanted:
                found[job.job_id] = job
                if len(found) == len(wanted):
                    break
        for job_id in sorted(wanted - set(found)):
            found[job_id] = self.client.get_job(job_id)
        return found
