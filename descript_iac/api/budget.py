"""Client-side request budgets: the Descript docs limit published-project reads to 1,000
requests per hour per user, so the client counts its own requests and waits (or stops) before
the server has to say 429.

`RequestBudget` is the interface; `HourlyBudget` keeps one process's count in memory. The state
package has a file-backed budget shared by every run on this machine (state/budget.py).
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Protocol

PUBLISHED_PER_HOUR = 1000
HOUR = 3600.0


class RequestBudget(Protocol):
    limit: int
    window: float

    def take(self, now: float) -> float:
        """Claim one request at `now` (local clock): 0 when it may go (it is counted), else the
        seconds until one may."""

    def hold_until(self, until: float) -> None:
        """The server asked for a pause (429 + Retry-After): no request before `until`."""


class HourlyBudget:
    """At most `limit` requests in any `window` seconds, for this process."""

    def __init__(self, limit: int = PUBLISHED_PER_HOUR, window: float = HOUR) -> None:
        self.limit = limit
        self.window = window
        self._times: deque[float] = deque()
        self._held = 0.0
        self._lock = threading.Lock()

    def take(self, now: float) -> float:
        with self._lock:
            if now < self._held:
                return self._held - now
            while self._times and self._times[0] <= now - self.window:
                self._times.popleft()
            if len(self._times) >= self.limit:
                return self._times[0] + self.window - now
            self._times.append(now)
            return 0.0

    def hold_until(self, until: float) -> None:
        with self._lock:
            self._held = max(self._held, until)
