"""How an apply runs: parallelism, waiting, poll intervals, how long to wait for doubts and jobs."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from descript_iac.plan.forecast import Budget, Forecast
from descript_iac.timing import Timing

MAX_IN_FLIGHT = 16  # POSTs in flight at once (each on its own gate)


@dataclass(frozen=True)
class ApplyOptions:
    parallelism: int | None = None  # projects at once; None: all (the rate limit paces them)
    wait: bool = True
    poll_interval: float = 2.0  # the longest wait between polls while jobs run, at first
    max_poll_interval: float = 15.0
    timing: Timing = field(default_factory=Timing)
    # How long past its window an intent may keep waiting (for a running import to show its
    # names) before the run leaves it in doubt for the next one, so no run waits for ever.
    max_doubt_wait: float = 1800.0
    # How long this run waits for one job to stop before leaving it running (recorded: the next
    # plan or apply picks it up), so no run holds the lock for ever on a job that never ends.
    max_job_wait: float = 6 * 3600.0
    max_in_flight: int = MAX_IN_FLIGHT
    # What the run may spend, and the plan's forecast it judges each job by (apply/spending.py).
    budget: Budget = field(default_factory=Budget)
    forecast: Forecast | None = None
    # Set by a long-running caller (`serve`): every job this run sends carries this callback URL
    # in place of the workspace's, and `wake`, once set (by a callback arriving), makes the run
    # poll at once instead of at its next scheduled poll (the schedule stays the fallback).
    callback_url: str | None = field(default=None, repr=False)  # holds a per-run secret
    wake: threading.Event | None = field(default=None, repr=False, compare=False)
    # Once set (the controller is told to stop): no new jobs are sent, the running ones are
    # polled and recorded, as after a first Ctrl-C.
    stop: threading.Event | None = field(default=None, repr=False, compare=False)
