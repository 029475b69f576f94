"""The API's clock, as seen from here: every reply's `Date` header maps local time to server time.

Job times (`created_at`) are stamped by the server, so the time an intent's POST was sent must be
on the server's clock too, or a skewed machine would look in the wrong window. Without any `Date`
header the local clock is used, with a generous error (timing.UNSYNCED_ERROR).

One reading: the header names a whole second and was written between the request's send and its
reply, so the offset (server minus local) lies in `[date - received, date + 1 - sent]`: a second
plus the round trip wide. Its middle, with half that width plus 0.25 s, is the estimate while
nothing better is known: about 0.8 s each way, and a create in doubt waits for both ends (the
send's and the read's), so about 1.6 s of each doubt was the header's resolution (issue #26).

Sharpened: a clock that runs keeps one offset, so the readings' intervals can be intersected
(`_Run`); once a second ticks over during some round trip and just before another, the
intersection is a few round trips wide (measured on the fault benchmark: the error falls from
0.75-0.8 s to about 0.1 s; docs/performance.md). That is safe only for a clock that runs at this
machine's rate, and the emulator's manual clock does not (it stands still, then jumps; the tests
move it in steps). So the intersection is used only when all of these hold, and otherwise the
latest reading alone, as before:
- Every reading since the run began intersects the others, each widened by `DRIFT` per second
  of its age (two clocks that both run, even one slewed by NTP, differ by far less). A reading
  that does not fit starts a new run from itself: a jump or a clock that stands is found out.
- The readings span `TRUST_SPAN` seconds of this machine's monotonic clock and at least twice
  the widest reading: a clock that stands still cannot stay consistent that long (its offset
  falls by a second per second, more than a reading's width), nor one moved in big steps.
- This machine's clock has not stepped against its monotonic clock since the run began (an NTP
  step, or the tests' injected clocks, which jump with every wait): such a step moves the
  offset by the step, so it starts a new run and the latest reading is used until trusted.
What is left, and why it is tolerated: a Date clock stepped by less than about a second without
a reading showing it (the next readings find it unless the step is tiny) shifts the estimate by
the step. For a real server the commit span and the history's lag are durations of real time:
the intersection is then the real-time mapping the step departed from, and it is the same
mapping at the send and at the read, so their difference is still the time that passed (a
step seen between them starts a new run, judged by its latest reading as before). A clock
advanced in regular steps of up to a second at the real rate on average cannot be told from a
running one at the header's resolution: its time trails the estimate by up to a step. No
server's clock does that; the emulator's is moved by a test only in bigger or faster steps.
`estimate()` gives the time and its error together: one without the other may be from
different readings.

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
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from descript_iac.errors import DescriptIacError
from descript_iac.timing import UNSYNCED_ERROR

DATE_RESOLUTION = 1.0  # the Date header counts whole seconds
READING_MARGIN = 0.25  # added to one reading's half width
SHARP_MARGIN = 0.1  # added to the half width of a trusted intersection
DRIFT = 1e-3  # seconds per second two running clocks may drift apart (NTP slews 5e-4 at most)
TRUST_SPAN = 3.0  # seconds of monotonic time a run of readings spans before it is trusted
STEP_TOLERANCE = 0.05  # local minus monotonic time moved more than this: the local clock stepped
SKEW_MARGIN = 2.0  # added to the largest offset seen: the next sample may be a bit larger
SKEW_BOUND = 600.0  # an offset past this between the two server clocks is not worked around


class ClockSkewError(DescriptIacError):
    """The job store's clock is too far from the `Date` clock to judge any window."""


@dataclass
class _Run:
    """Consecutive readings consistent with one offset (server minus local): their intersection."""

    low: float
    high: float
    first: float  # monotonic time of its first reading
    last: float  # ... and of its latest
    step: float  # local minus monotonic time when it began
    widest: float  # the widest single reading in it

    def aged(self, mono: float) -> tuple[float, float]:
        """The intersection, widened for how far two running clocks may have drifted since."""
        drift = DRIFT * max(0.0, mono - self.last)
        return self.low - drift, self.high + drift

    def trusted(self, step: float) -> bool:
        spans = self.last - self.first >= max(TRUST_SPAN, 2 * self.widest)
        return spans and abs(step - self.step) <= STEP_TOLERANCE


class ServerClock:
    def __init__(
        self,
        local: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._local = local
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._offset = 0.0  # server time minus local time, from the latest reading
        self._error = UNSYNCED_ERROR
        self._run: _Run | None = None
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
        # The server wrote the header somewhere in [sent, received], within the second it names.
        low = server - max(sent_local, received_local)
        high = server + DATE_RESOLUTION - min(sent_local, received_local)
        with self._lock:
            mono, step = self._now_pair()
            self._offset = (low + high) / 2
            self._error = (high - low) / 2 + READING_MARGIN
            self.synced = True
            run = self._run
            if run is not None and abs(step - run.step) <= STEP_TOLERANCE:
                kept_low, kept_high = run.aged(mono)
                kept_low, kept_high = max(kept_low, low), min(kept_high, high)
                if kept_low <= kept_high:
                    run.low, run.high, run.last = kept_low, kept_high, mono
                    run.widest = max(run.widest, high - low)
                    return
            # The first reading, or one that does not fit the run: the clock jumped or stands.
            self._run = _Run(low, high, mono, mono, step, high - low)

    def _now_pair(self) -> tuple[float, float]:
        """(monotonic time, local minus monotonic time), read together."""
        mono = self._monotonic()
        return mono, self._local() - mono

    def _estimate(self) -> tuple[float, float]:
        """(offset, error) now; called with the lock held."""
        run = self._run
        if run is not None:
            mono, step = self._now_pair()
            if run.trusted(step):
                low, high = run.aged(mono)
                return (low + high) / 2, (high - low) / 2 + SHARP_MARGIN
        return self._offset, self._error

    def estimate(self) -> tuple[float, float]:
        """(this moment on the server's clock, how far that may be from the server's own
        reading), from one estimate: take them together, never `now()` and `error` apart."""
        with self._lock:
            offset, error = self._estimate()
            return self._local() + offset, error

    def earliest(self) -> float:
        """The earliest the server's clock can read now."""
        now, error = self.estimate()
        return now - error

    def now(self) -> float:
        """This moment on the server's clock (best estimate)."""
        return self.estimate()[0]

    @property
    def error(self) -> float:
        """How far `now()` may be from the server's own reading, in seconds."""
        return self.estimate()[1]

    @property
    def sharpened(self) -> bool:
        """Whether the estimate is the readings' trusted intersection (else the latest one)."""
        with self._lock:
            run = self._run
            return run is not None and run.trusted(self._now_pair()[1])

    @property
    def offset(self) -> float:
        """Server clock minus this machine's clock (doctor reports it as clock skew)."""
        with self._lock:
            return self._estimate()[0]

    def replied(self, job_id: str, sent_at: float, sent_error: float) -> None:
        """The POST sent at `sent_at` (within `sent_error`, this clock) was answered just now
        with `job_id`: its job was stamped in between; `observe_job` compares its `created_at`."""
        now, error = self.estimate()
        latest = now + error
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
