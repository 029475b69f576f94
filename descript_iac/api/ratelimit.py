"""One rate limiter per process, shared by every request: spends exactly the budget the API
allows, and honours Retry-After.

A token bucket refilled by the server's own window. Each request takes a token; each reply's
`X-RateLimit-Remaining` (with `X-RateLimit-Consumed`, and `X-RateLimit-Limit` /
`X-RateLimit-Reset` where sent) lowers what is left to what the server says, so that other
clients' requests are counted too (the replies of requests in flight together may come in any
order: a reply never raises the count). The reply that opened a window (consumed 1) dates it: the
server counted that request before its reply arrived, so the window ends at most its length
after the reply (never earlier: waiting is what the guess errs on). The window's length is the
`X-RateLimit-Reset` of that opening reply, else the longest Retry-After seen, else 1 second.
Until the bucket is empty requests go at once, however many at a time; then they wait for the
window's end. A 429 empties the bucket and pauses every request for its Retry-After (plus a
little jitter, so that parallel clients do not retry in lockstep). A server that sends no
headers is not paced at all: only its 429s pause.

Every request takes a `Ticket` (`acquire`, blocking; `try_acquire`, never blocking) and hands it
back with its reply (`on_response`), or unused (`release`).

The headers are read by `limit_headers` (seconds or HTTP dates, an epoch `X-RateLimit-Reset`,
hostile values clamped): each bad value is said once per run, and every pause longer than
`NOTICE_AFTER` is said when it begins, with its reason and its end time, through `notify` (by
default `notices.say`: the `descript_iac.throttle` logger, or what the CLI prints). `paused`
adds up the pauses 429s asked for, so that a run can stop once it has been throttled too long
(api/client.py).
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from descript_iac import notices
from descript_iac.api import limit_headers
from descript_iac.api.limit_headers import MAX_WAIT

NOTICE_AFTER = 5.0  # seconds: a pause at least this long is said when it begins
JITTER = 0.1  # up to +10 % on Retry-After
DEFAULT_WINDOW = 1.0  # seconds, until the server says otherwise
MARGIN = 0.002  # seconds past a window's estimated end before its budget is counted again


@dataclass(frozen=True)
class Ticket:
    """One request's place in the budget: its order and the window it was counted in."""

    seq: int
    window: int


class RateLimiter:
    def __init__(
        self,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        notify: Callable[[str], None] | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._sleep = sleep
        self._clock = clock
        self._wall = wall
        self.notify = notify or notices.say
        self._said: set[str] = set()  # problems already said (once each per run)
        self._said_window = 0  # the last window whose wait was said
        self._unsaid: tuple[float, str] | None = None  # a wait met under the lock, to say
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._skipped = 0.0  # time an injected sleep claimed that the clock did not show
        self._seq = 0  # tickets handed out
        self._window = 0  # windows opened (our count)
        self._window_first = 0  # the first ticket of the current window
        self._window_end = -math.inf
        self._length = DEFAULT_WINDOW  # the server's window, in seconds
        self._learned_length = False  # from X-RateLimit-Reset
        self._opened_at: float | None = None  # when the reply opening a window came
        self._opened = 0  # ... and which window it opened
        self._limit: int | None = None  # requests per window; None until a reply says
        self._tokens: int | None = None  # left in the current window; None: unknown (no limit)
        self._paused_until = -math.inf
        self.waited = 0.0  # seconds callers spent waiting
        self.throttled = 0  # 429s seen
        self.paused = 0.0  # seconds of pause the 429s asked for, in all (overlaps counted once)

    # --- budget --------------------------------------------------------------------------

    def _now(self) -> float:
        return self._clock() + self._skipped

    def _take(self, now: float, keep: int = 0) -> Ticket | float:
        """Under the lock: a ticket now, or the seconds to wait for one. `keep`: the tokens
        that must stay in the window for others."""
        if now < self._paused_until:
            return self._paused_until - now
        if now >= self._window_end:
            self._tokens = self._limit  # None: nothing known (yet), no pacing
            self._window += 1
            self._window_first = self._seq + 1
            self._window_end = now + self._length + MARGIN  # corrected by the opening reply
        if self._tokens is not None:
            if self._tokens <= keep:
                wait = max(self._window_end - now, 0.001)
                if wait >= NOTICE_AFTER and self._said_window != self._window:
                    self._said_window = self._window  # said once the lock is let go
                    self._unsaid = (wait, self._window_reason())
                return wait
            self._tokens -= 1
        self._seq += 1
        return Ticket(self._seq, self._window)

    def try_acquire(self, keep: int = 0) -> Ticket | None:
        """A ticket if a request may go now and leave more than `keep` tokens in the window
        (kept for requests that come first), else None (nothing is taken)."""
        with self._lock:
            taken = self._take(self._now(), keep)
        self._say_unsaid()
        return taken if isinstance(taken, Ticket) else None

    def acquire(self) -> Ticket:
        """Block until a request may go; its ticket."""
        while True:
            with self._lock:
                before = self._now()
                taken = self._take(before)
            self._say_unsaid()
            if isinstance(taken, Ticket):
                return taken
            with self._lock:
                self.waited += taken
            self._sleep(taken)
            with self._lock:
                # An injected sleep (tests, a manual clock) may not move the clock: count it.
                self._skipped += max(0.0, taken - (self._now() - before))

    def ready_in(self, keep: int = 0) -> float:
        """Seconds until a request could go leaving `keep` tokens (0: now); nothing is taken."""
        with self._lock:
            now = self._now()
            if now < self._paused_until:
                return self._paused_until - now
            if now >= self._window_end or self._tokens is None or self._tokens > keep:
                return 0.0
            return self._window_end - now

    def window_left(self) -> float | None:
        """Seconds until the current window's budget is renewed; None when nothing paces."""
        with self._lock:
            if self._tokens is None:
                return None
            return max(0.0, self._window_end - self._now())

    def rate(self) -> float | None:
        """Requests per second the server allows, once its headers said; else None."""
        with self._lock:
            return None if self._limit is None else self._limit / self._length

    def release(self, ticket: Ticket) -> None:
        """The ticket's request was never sent: its place goes back to the window."""
        with self._lock:
            if ticket.window == self._window and self._tokens is not None:
                self._tokens += 1

    # --- what the server said ------------------------------------------------------------

    def on_response(
        self,
        headers: Mapping[str, str],
        ticket: Ticket | None = None,
        server_now: float | None = None,
    ) -> None:
        """Learn from a reply's headers. `server_now`: this moment on the server's clock (for
        an epoch or a date in `X-RateLimit-Reset`); this machine's clock when not given."""
        remaining = self._count(headers, "X-RateLimit-Remaining")
        consumed = self._count(headers, "X-RateLimit-Consumed")
        limit = self._count(headers, "X-RateLimit-Limit")
        now_there = self._wall() if server_now is None else server_now
        reset = self._read(limit_headers.reset(headers.get("x-ratelimit-reset"), now_there))
        if remaining is None:
            return
        with self._lock:
            now = self._now()
            if limit is None and consumed is not None:
                limit = consumed + remaining
            if limit is not None and limit > 0:
                self._limit = limit
            if ticket is None:  # a caller outside the budget: take its word as it stands
                later = 0
                current = True
            else:
                later = self._seq - ticket.seq  # sent after it: not in its count yet
                current = ticket.seq >= self._window_first
            if consumed == 1 and ticket is not None:
                # This request opened the server's window, which began before this reply.
                if reset is not None and reset > 0:
                    self._length = reset
                    self._learned_length = True
                if not current:  # the server's window began later than ours: follow it
                    self._window += 1
                    self._window_first = ticket.seq
                self._opened_at, self._opened = now, self._window
                self._window_end = now + self._length + MARGIN
                self._tokens = remaining - later
            elif current and self._limit is not None:
                # Our tickets are already off `_tokens`; `remaining` counts what the server
                # counted up to this request, ours (in any order) and other clients'. The lower
                # of the two is exact for one client and never above the truth for several.
                self._tokens = remaining if self._tokens is None else min(self._tokens, remaining)

    def on_throttled(self, retry_after: str | None, server_now: float | None = None) -> float:
        """Record a 429; return the seconds to wait before retrying. `server_now`: as in
        `on_response`, for a `Retry-After` that is an HTTP date."""
        now_there = self._wall() if server_now is None else server_now
        seconds = self._read(limit_headers.retry_after(retry_after, now_there))
        if seconds is None:
            seconds = self._length
        seconds = min(seconds, MAX_WAIT)
        wait = seconds * (1 + self._rng.random() * JITTER)
        with self._lock:
            self.throttled += 1
            now = self._now()
            self.paused += max(0.0, now + wait - max(now, self._paused_until))
            opened = self._opened_at is not None and self._opened == self._window
            if not self._learned_length and self._opened_at is not None and opened:
                # No X-RateLimit-Reset: the window lasts at least until the server's pause ends.
                seen = now + seconds - self._opened_at
                self._length = min(MAX_WAIT, max(self._length, seen))
            self._paused_until = max(self._paused_until, now + wait)
            self._window_end = max(self._window_end, now + wait)
            if self._tokens is not None:
                self._tokens = 0
        if wait >= NOTICE_AFTER:
            asked = "no Retry-After" if retry_after is None else f"Retry-After {seconds:.0f} s"
            self._say_wait(wait, f"the API answered 429 Too Many Requests ({asked})")
        return wait

    # --- what the user is told -----------------------------------------------------------

    def _count(self, headers: Mapping[str, str], name: str) -> int | None:
        value = self._read(limit_headers.count(name, headers.get(name.lower())))
        return None if value is None else int(value)

    def _read(self, reading: limit_headers.Reading) -> float | None:
        """The reading's value; its problem said, once per run."""
        if reading.problem is not None and reading.problem not in self._said:
            self._said.add(reading.problem)
            self.notify(f"the API sent {reading.problem}")
        return reading.value

    def _window_reason(self) -> str:
        limit = "" if self._limit is None else f"{self._limit} requests "
        return f"the API's rate limit ({limit}per {self._length:g} s) is used up"

    def _say_unsaid(self) -> None:
        """Say the wait `_take` met, outside the lock (a display may take its own locks)."""
        if self._unsaid is None:  # (the common case, without taking the lock again)
            return
        with self._lock:
            unsaid, self._unsaid = self._unsaid, None
        if unsaid is not None:
            self._say_wait(*unsaid)

    def _say_wait(self, seconds: float, reason: str) -> None:
        until = datetime.fromtimestamp(self._wall() + seconds).strftime("%H:%M:%S")
        self.notify(f"waiting {seconds:.0f} s, until {until}: {reason}")


_shared: RateLimiter | None = None
_shared_lock = threading.Lock()


def shared_limiter() -> RateLimiter:
    """The process-wide limiter."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = RateLimiter()
        return _shared
