"""The API's clock, as seen from here: every reply's `Date` header maps local time to server time.

Job times (`created_at`) are stamped by the server, so the time an intent's POST was sent must be
on the server's clock too, or a skewed machine would look in the wrong window. The header has a
resolution of one second and arrives after half a round trip, so each reading carries an error;
the latest reading wins (a server's clock does not jump, but the emulator's manual clock does).
Without any `Date` header the local clock is used, with a generous error (timing.UNSYNCED_ERROR).

The `Date` header and a job's `created_at` need not come from one clock (a load balancer may set
the one, the job store stamps the other). Their offset is measured, never assumed: a job this run
sent and whose reply it read was stamped between the send and the reply, so its `created_at`
bounds the offset on both sides (`replied`, then `observe_job`); `job_skew` is the largest
bound seen plus a margin (before any sample, the bound: 10 minutes) and widens the window in
which an in-doubt job is looked for. It never delays a verdict: when the history is complete is
a matter of the `Date` clock alone (apply/resolve.py).
An offset past `SKEW_BOUND` stops the run: the windows would be guesses.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime

from descript_iac.errors import DescriptIacError
from descript_iac.timing import UNSYNCED_ERROR

DATE_RESOLUTION = 1.0  # the Date header counts whole seconds
SKEW_MARGIN = 2.0  # added to the largest offset seen: the next sample may be a bit larger
SKEW_BOUND = 600.0  # an offset past this between the two server clocks is not worked around


class ClockSkewError(DescriptIacError):
    """The job store's clock is too far from the `Date` clock to judge any window."""


class ServerClock:
    def __init__(self, local: Callable[[], float] = time.time) -> None:
        self._local = local
        self._lock = threading.Lock()
        self._offset = 0.0  # server time minus local time
        self._error = UNSYNCED_ERROR
        self.synced = False
        self._job_offset = 0.0  # the largest |offset| a sample allows, job clock minus `Date`
        self.job_samples = 0
        # Jobs this run sent and got a reply for: when they can have been stamped (`Date` clock).
        self._stamped: dict[str, tuple[float, float]] = {}
        self._lag = 0.0  # the longest a job this drive made was seen missing from the history

    def observe(self, date_header: str | None, sent_local: float, received_local: float) -> None:
        """Learn the offset from one reply's `Date` header."""
        if not date_header:
            return
        try:
            server = parsedate_to_datetime(date_header).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return
        half_trip = max(0.0, received_local - sent_local) / 2
        # The server wrote the header somewhere in [sent, received], within the second it names.
        midpoint = (sent_local + received_local) / 2
        with self._lock:
            self._offset = server + DATE_RESOLUTION / 2 - midpoint
            self._error = DATE_RESOLUTION / 2 + half_trip + 0.25
            self.synced = True

    def now(self) -> float:
        """This moment on the server's clock (best estimate)."""
        with self._lock:
            return self._local() + self._offset

    @property
    def error(self) -> float:
        """How far `now()` may be from the server's own reading, in seconds."""
        with self._lock:
            return self._error

    @property
    def offset(self) -> float:
        """Server clock minus this machine's clock (doctor reports it as clock skew)."""
        with self._lock:
            return self._offset

    def replied(self, job_id: str, sent_at: float, sent_error: float) -> None:
        """The POST sent at `sent_at` (within `sent_error`, this clock) was answered just now
        with `job_id`: its job was stamped in between; `observe_job` compares its `created_at`."""
        latest = self.now() + self.error
        with self._lock:
            self._stamped[job_id] = (sent_at - sent_error, latest)

    def observe_job(self, job_id: str, created_at: float) -> None:
        """One sample of the job clock against the `Date` clock, if `job_id` is a job this run
        sent and got a reply for (a job found in doubt, or one of an earlier run, has no known
        reply time: its send time alone would underestimate an offset by the POST's trip)."""
        with self._lock:
            stamped = self._stamped.pop(job_id, None)
        if stamped is None:
            return
        earliest, latest = stamped
        low, high = created_at - latest, created_at - earliest  # the offset lies in between
        nearest = 0.0 if low <= 0.0 <= high else min(abs(low), abs(high))
        if nearest > SKEW_BOUND:
            raise ClockSkewError(
                f"job {job_id} was stamped created_at {low:+.1f}s to {high:+.1f}s from the API's "
                f"Date header at the time of its POST; an offset over {SKEW_BOUND:g}s between "
                "the API's two clocks makes every in-doubt window a guess, so nothing more is "
                "sent. Check the API URL (a proxy or cache may set Date) and report it to the "
                "API's operator"
            )
        with self._lock:
            self._job_offset = max(self._job_offset, abs(low), abs(high))
            self.job_samples += 1

    @property
    def measured_offset(self) -> float | None:
        """The largest offset this run's own jobs allowed (None: none seen yet)."""
        with self._lock:
            return self._job_offset if self.job_samples else None

    @property
    def job_skew(self) -> float:
        """How much to widen a window for the two clocks' offset. Before any sample the offset
        is unknown: the widest one tolerated is assumed (a wider search, never a longer wait)."""
        with self._lock:
            if not self.job_samples:
                return SKEW_BOUND + SKEW_MARGIN
            return self._job_offset + SKEW_MARGIN

    def observe_lag(self, seconds: float) -> None:
        """A job known to exist (its reply was read) was still missing from the job history
        `seconds` after its POST was sent: the history lags at least about that much."""
        with self._lock:
            self._lag = max(self._lag, seconds)

    @property
    def history_lag_seen(self) -> float:
        with self._lock:
            return self._lag
