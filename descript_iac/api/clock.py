"""The API's clock, as seen from here: every reply's `Date` header maps local time to server time.

Job times (`created_at`) are stamped by the server, so the time an intent's POST was sent must be
on the server's clock too, or a skewed machine would look in the wrong window. The header has a
resolution of one second and arrives after half a round trip, so each reading carries an error;
the latest reading wins (a server's clock does not jump, but the emulator's manual clock does).
Without any `Date` header the local clock is used, with a generous error (timing.UNSYNCED_ERROR).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime

from descript_iac.timing import UNSYNCED_ERROR

DATE_RESOLUTION = 1.0  # the Date header counts whole seconds


class ServerClock:
    def __init__(self, local: Callable[[], float] = time.time) -> None:
        self._local = local
        self._lock = threading.Lock()
        self._offset = 0.0  # server time minus local time
        self._error = UNSYNCED_ERROR
        self.synced = False

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
