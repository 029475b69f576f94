"""Time for the emulator: the real clock, or a manual one that tests advance explicitly."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from email.utils import formatdate


class Clock:
    def now(self) -> float:
        raise NotImplementedError

    def advance(self, seconds: float) -> None:
        raise ValueError("the clock is real; start the emulator with --manual-clock to advance it")


class RealClock(Clock):
    def now(self) -> float:
        return time.time()


class ManualClock(Clock):
    """Stands still until `advance` is called (as moto's manual state transitions do)."""

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._now += seconds


def iso(ts: float) -> str:
    """ISO 8601 in UTC with milliseconds, as the API writes times."""
    dt = datetime.fromtimestamp(ts, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> float:
    value = text.strip()
    if value.endswith("Z") or value.endswith("z"):
        value = value[:-1] + "+00:00"
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def http_date(ts: float) -> str:
    """The `Date` header's form (RFC 7231 IMF-fixdate), e.g. `Tue, 03 Mar 2026 10:00:00 GMT`."""
    return formatdate(ts, usegmt=True)
