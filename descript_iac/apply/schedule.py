"""When to read the job history next: at the next expected completion, not on a fixed beat.

- Each job type's run time is learnt from the jobs that stopped (`created_at` to `stopped_at`, on
  the server's clock); a job sent now is expected to be over that long after its reply, plus a
  little. The next poll is at the first such moment after the last poll.
- At the latest one `interval` after the last poll; the interval starts at the base (the
  `--poll-interval`) and grows by half while polls find nothing finished (up to the cap), as
  jobs that run long need no close watch. Never sooner than `floor` after the last poll.
- While the POSTs ready to go keep the rate limit's whole budget busy for `drain` seconds, a
  poll could only queue more of them: it is put off until shortly before they run out (at most
  up to the cap), so the budget goes to POSTs.

Times are the engine's clock (seconds, monotonic).
"""

from __future__ import annotations

import heapq
import math

from descript_iac.api.models import Job

FLOOR = 0.2  # seconds: the shortest gap between two polls (or the base interval, if shorter)
MARGIN = 0.05  # seconds added to an expected completion (a job shows as stopped a bit after)
SLACK = 1.05  # ... and this much of the run time
LEAD = 0.5  # seconds before the ready POSTs run out at which a put-off poll happens
LEARNT = 0.3  # weight of the newest run time in the learnt average


class PollSchedule:
    def __init__(self, base: float, cap: float) -> None:
        self.base = base
        self.cap = max(cap, base)
        self.floor = min(FLOOR, base)
        self.interval = base
        self.last = -math.inf  # when the last poll was
        self._runs: dict[str, float] = {}  # job type -> learnt run time, seconds
        self._expected: list[float] = []  # a heap of expected completions

    def learn(self, job: Job) -> None:
        """A stopped job: how long jobs of its type run."""
        if job.created_at is None or job.stopped_at is None:
            return
        seconds = (job.stopped_at - job.created_at).total_seconds()
        if seconds < 0:
            return
        known = self._runs.get(job.job_type)
        self._runs[job.job_type] = seconds if known is None else known + LEARNT * (seconds - known)

    def sent(self, job_type: str, now: float, alone: bool = False) -> None:
        """A job of `job_type` was created at `now` (its reply arrived); `alone`: no other job
        runs, so the interval counts from it (a poll sooner could only find it running)."""
        if alone:
            self.last = max(self.last, now)
        run = self._runs.get(job_type)
        if run is not None:
            heapq.heappush(self._expected, now + run * SLACK + MARGIN)
        self.interval = self.base  # something moved: watch closely again

    def due(self, now: float, drain: float = 0.0) -> float:
        """When the next poll should be. `drain`: seconds the ready POSTs will keep the rate
        limit's budget busy (0 when it is not the bound)."""
        while self._expected and self._expected[0] <= self.last:
            heapq.heappop(self._expected)  # a poll already came after it
        due = self.last + self.interval
        if self._expected:
            due = min(due, self._expected[0])
        due = max(due, self.last + self.floor)
        if drain > 0:
            due = max(due, min(now + drain - LEAD, self.last + self.cap))
        return due

    def polled(self, now: float, finished: int) -> None:
        """A poll happened at `now` and found `finished` jobs stopped."""
        self.last = now
        self.interval = self.base if finished else min(self.cap, self.interval * 1.5)
