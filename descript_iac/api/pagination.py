"""Bounds on walking the job history, so that a broken or hostile server cannot make a command
loop for ever (while holding the state lock) or read without end.

The job history covers 30 days and every page moves back in time, so a walk must end. It is
stopped with an error, naming the endpoint and the page, when:

- a `next_cursor` comes back that was already followed;
- a page holds only jobs already seen on earlier pages;
- a job is older than the 30-day horizon (with a day of slack for clocks);
- more than `MAX_PAGES` pages were read.
"""

from __future__ import annotations

from datetime import timezone

from descript_iac.api.errors import PaginationError
from descript_iac.api.models import JobList

HORIZON_DAYS = 30
SLACK_SECONDS = 86_400.0
MAX_PAGES = 5_000  # 500,000 jobs at 100 a page: far more than 30 days of any account


class PageGuard:
    def __init__(self, endpoint: str, now: float, max_pages: int | None = None) -> None:
        self.endpoint = endpoint
        self.oldest = now - HORIZON_DAYS * 86_400.0 - SLACK_SECONDS
        self.max_pages = max_pages or MAX_PAGES
        self.pages = 0
        self._cursors: set[str] = set()
        self._jobs: set[str] = set()

    def _stop(self, why: str) -> PaginationError:
        return PaginationError(
            f"{self.endpoint}: page {self.pages} of the job history {why}; stopped reading "
            "instead of looping. The server's pagination is broken; try again later"
        )

    def check(self, page: JobList) -> None:
        """Raise `PaginationError` if `page` shows that the walk would not end."""
        self.pages += 1
        if self.pages > self.max_pages:
            raise self._stop(f"is past the limit of {self.max_pages} pages")
        cursor = page.pagination.next_cursor
        if cursor:
            if cursor in self._cursors:
                raise self._stop("repeats the cursor of an earlier page")
            self._cursors.add(cursor)
        ids = {job.job_id for job in page.data}
        if ids and ids <= self._jobs:
            raise self._stop("repeats only jobs of earlier pages")
        self._jobs |= ids
        for job in page.data:
            created = job.created_at
            if created is None:
                continue
            stamp = created if created.tzinfo else created.replace(tzinfo=timezone.utc)
            if stamp.timestamp() < self.oldest:
                when = stamp.astimezone(timezone.utc).strftime("%Y-%m-%d")
                raise self._stop(
                    f"holds job {job.job_id} created {when}, before the API's "
                    f"{HORIZON_DAYS}-day horizon"
                )
