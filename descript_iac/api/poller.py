"""Refresh many in-flight jobs with few requests.

One round lists the job history (filtered by type when all jobs share one, and by a time window
that starts just before the oldest job was sent), 100 jobs a page, stopping as soon as every
wanted job was seen; only jobs the list did not return are fetched one by one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from descript_iac.api.client import DescriptClient
from descript_iac.api.errors import NotFound
from descript_iac.api.models import Job
from descript_iac.timing import UNSYNCED_ERROR, history_floor

PAGE = 100


@dataclass(frozen=True)
class InFlight:
    job_id: str
    job_type: str
    sent_at: float  # server time, just before the POST


class BatchPoller:
    def __init__(self, client: DescriptClient, clock: Callable[[], float] | None = None) -> None:
        self.client = client
        self._now = clock or client.clock.now
        # Jobs the API no longer knows (past its 30-day history).
        self.gone: set[str] = set()

    def refresh(self, jobs: Mapping[str, InFlight]) -> dict[str, Job]:
        """The current status of each job in `jobs` (by id)."""
        if not jobs:
            return {}
        wanted = set(jobs)
        found: dict[str, Job] = {}
        types = {j.job_type for j in jobs.values()}
        # The margin covers send times recorded on an unsynced clock; a wider listing only costs
        # a page more now and then.
        oldest = min(j.sent_at for j in jobs.values()) - UNSYNCED_ERROR - self.client.clock.job_skew
        after = max(oldest, history_floor(self._now()))
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
            try:
                found[job_id] = self.client.get_job(job_id)
            except NotFound:
                self.gone.add(job_id)
        for job_id, job in found.items():  # a sample of the job clock's offset, if ours
            if job.created_at is not None:
                self.client.clock.observe_job(job_id, job.created_at.timestamp())
        return found
