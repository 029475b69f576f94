"""One rate limiter per process, shared by every request: honours Retry-After and paces
proactively from X-RateLimit-Remaining so that a long apply mostly avoids 429s."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping

MAX_WAIT = 120.0  # never sleep longer than this on one Retry-After
JITTER = 0.1  # up to +10 % on Retry-After, so parallel clients do not retry in lockstep
LOW_WATER = 1  # remaining requests at which we start pacing


class RateLimiter:
    def __init__(
        self,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._paused_until = 0.0
        self._window = 1.0  # estimate of the server's window, learned from Retry-After
        self.waited = 0.0
        self.throttled = 0  # 429s seen

    def before_request(self) -> None:
        """Block until the limiter allows the next request."""
        with self._lock:
            delay = self._paused_until - self._clock()
        if delay > 0:
            self.waited += delay
            self._sleep(delay)

    def on_response(self, headers: Mapping[str, str]) -> None:
        remaining = _int(headers.get("x-ratelimit-remaining"))
        if remaining is None or remaining > LOW_WATER:
            return
        with self._lock:
            # Out of requests in this window: wait for the next one instead of earning a 429.
            pause = self._window if remaining == 0 else self._window / 2
            self._paused_until = max(self._paused_until, self._clock() + pause)

    def on_throttled(self, retry_after: str | None) -> float:
        """Record a 429; return the seconds to wait before retrying."""
        seconds = _float(retry_after)
        if seconds is None or seconds < 0:
            seconds = self._window
        seconds = min(seconds, MAX_WAIT)
        wait = seconds * (1 + self._rng.random() * JITTER)
        with self._lock:
            self.throttled += 1
            self._window = max(seconds, 0.1)
            self._paused_until = max(self._paused_until, self._clock() + wait)
        return wait


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


_shared: RateLimiter | None = None
_shared_lock = threading.Lock()


def shared_limiter() -> RateLimiter:
    """The process-wide limiter."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = RateLimiter()
        return _shared
