"""The API's clock, as seen from here: every reply's `Date` header maps local time to server time.

Job times (`created_at`) are stamped by the server, so the time an intent's POST was sent must be
on the server's clock too, or a skewed machine would look in the wrong window. The header has a
resolution of one second and arrives after half a round trip, so each reading carries an error;
the latest reading wins (a server's clock does not jump, but the emulator's manual clock does).
Without any `Date` header the local clock is used, with a generous error (timing.UNSYNCED_ERROR).

The `Date` header and a job's `created_at` need not come from one clock (a load balancer may set
the one, the job store stamps the other). Their offset is measured, never assumed: every job this
run sent and then saw gives a sample, `created_at` minus the send time on the `Date` clock
(`observe_job`); `job_skew` is the largest seen plus a margin (before any sample, the bound),
and widens every in-doubt window.
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
# A sample also holds the POST's own trip (and a slow server's): this much over the bound is
# still taken as within it, and before any sample the windows allow for all of it.
SKEW_SLACK = 30.0


class ClockSkewError(DescriptIacError):
    """The job store's clock is too far from the `Date` clock to judge any window."""


class ServerClock:
    def __init__(self, local: Callable[[], float] = time.time) -> None:
        self._local = local
        self._lock = threading.Lock()
        self._offset = 0.0  # server time minus local time
        self._error = UNSYNCED_ERROR
        self.synced = False
        self._job_offset = 0.0  # the largest |created_at - send time| seen, `Date` clock
        self.job_samples = 0
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

    def observe_job(self, created_at: float, sent_at: float, job_id: str = "") -> None:
        """One sample of the job clock against the `Date` clock: a job sent at `sent_at` (this
        clock) was stamped `created_at`. The sample includes the POST's own trip, so it is an
        upper bound of the offset when positive; that only widens the windows."""
        sample = created_at - sent_at
        if abs(sample) > SKEW_BOUND + SKEW_SLACK + UNSYNCED_ERROR and not self.synced:
            return  # a send time from the unsynced local clock says nothing about the server
        if abs(sample) > SKEW_BOUND + SKEW_SLACK:
            raise ClockSkewError(
                f"job {job_id or '?'} was stamped created_at {sample:+.1f}s from the time its "
                f"POST was sent by the API's Date header; an offset over {SKEW_BOUND:g}s "
                "between the API's two clocks makes every in-doubt window a guess, so nothing "
                "more is sent. Check the API URL (a proxy or cache may set Date) and report it "
                "to the API's operator"
            )
        with self._lock:
            self._job_offset = max(self._job_offset, abs(sample))
            self.job_samples += 1

    @property
    def job_skew(self) -> float:
        """How much to widen a window for the two clocks' offset. Before any sample the offset
        is unknown: the widest one tolerated is assumed (a lost reply waits that much longer)."""
        with self._lock:
            if not self.job_samples:
                return SKEW_BOUND + SKEW_SLACK
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
