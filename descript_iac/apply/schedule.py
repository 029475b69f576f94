"""When to read the job history next: at the next expected completion, not on a fixed beat.

- Each job type's run time is learnt from the jobs that stopped (and kept across runs in the
  job cache, per API) (`created_at` to `stopped_at`, on
  the server's clock); a job sent now is expected to be over that long after its reply, plus a
  little. The next poll is at the first such moment after the last poll.
- A job expected over by a poll that did not see it over is late: it is looked for again a tenth
  of its run time later (run times vary; waiting the whole interval would cost more than a poll).
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
SLACK = 1.0  # ... times the run time (a poll a little early costs one more, LATE later)
LEAD = 0.5  # seconds before the ready POSTs run out at which a put-off poll happens
LEARNT = 0.3  # weight of the newest run time in the learnt average
LATE = 0.1  # of a run time: how soon a job expected by now, and not seen over, is looked for again


class PollSchedule:
    def __init__(self, base: float, cap: float, runs: dict[str, float] | None = None) -> None:
        """`runs`: run times learnt by earlier applies on this API (the job cache keeps them),
        so a run's first job of a type is polled when it can first be over, not at `base`."""
        self.base = base
        self.cap = max(cap, base)
        self.floor = min(FLOOR, base)
        self.interval = base
        self.last = -math.inf  # when the last poll was
        self._runs: dict[str, float] = dict(runs or {})  # job type -> learnt run time, seconds
        # A heap of (expected completion, the run time it was expected from).
        self._expected: list[tuple[float, float]] = []

    def learn(self, job: Job) -> None:
        """A stopped job: how long jobs of its type run."""
        if job.created_at is None or job.stopped_at is None:
            return
        seconds = (job.stopped_at - job.created_at).total_seconds()
        if seconds < 0:
            return
        known = self._runs.get(job.job_type)
        self._runs[job.job_type] = seconds if known is None else known + LEARNT * (seconds - known)

    @property
    def run_times(self) -> dict[str, float]:
        """What was learnt (and known before), to keep for the next run."""
        return dict(self._runs)

    def sent(self, job_type: str, now: float, alone: bool = False) -> None:
        """A job of `job_type` was created at `now` (its reply arrived); `alone`: no other job
        runs, so the interval counts from it (a poll sooner could only find it running)."""
        if alone:
            self.last = max(self.last, now)
        run = self._runs.get(job_type)
        if run is not None:
            heapq.heappush(self._expected, (now + run * SLACK + MARGIN, run))
        self.interval = self.base  # something moved: watch closely again

    def due(self, now: float, drain: float = 0.0) -> float:
        """When the next poll should be. `drain`: seconds the ready POSTs will keep the rate
        limit's budget busy (0 when it is not the bound)."""
        while self._expected and self._expected[0][0] <= self.last:
            heapq.heappop(self._expected)  # a poll already came after it
        due = self.last + self.interval
        if self._expected:
            due = min(due, self._expected[0][0])
        due = max(due, self.last + self.floor)
        if drain > 0:
            due = max(due, min(now + drain - LEAD, self.last + self.cap))
        return due

    def polled(self, now: float, finished: int) -> None:
        """A poll happened at `now` and found `finished` jobs stopped. Jobs expected over by now
        and not all seen over are late (a run time varies: it is an average): they are looked
        for again a tenth of their run time later, not after the whole (growing) interval."""
        due = sorted(run for at, run in self._expected if at <= now)
        late = due[: max(0, len(due) - finished)]
        self.last = now
        self.interval = self.base if finished else min(self.cap, self.interval * 1.5)
        for run in late:
            heapq.heappush(self._expected, (now + max(self.floor, LATE * run), run))
