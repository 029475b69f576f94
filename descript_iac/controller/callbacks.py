"""Job callbacks: each run's jobs carry `<base>/callbacks/<run>/<secret>`; a callback whose secret
matches a run that is applying wakes that run to poll the job history now.

A callback is never read as data (its body could say anything): it only shortens the wait before
the next poll, which reads the jobs from the API. A forged one (wrong secret, unknown run) is
refused; a replayed one finds its run finished, or only causes a poll.
"""

from __future__ import annotations

import hmac
import threading

from descript_iac.controller.runs import RunStore


class Callbacks:
    def __init__(self, base_url: str, book: RunStore) -> None:
        self.base_url = base_url.rstrip("/")
        self.book = book
        self._lock = threading.Lock()
        self._waiting: dict[str, threading.Event] = {}  # run id -> its apply's wake event

    def url_for(self, run_id: str, secret: str) -> str:
        return f"{self.base_url}/callbacks/{run_id}/{secret}"

    def listen(self, run_id: str) -> threading.Event:
        wake = threading.Event()
        with self._lock:
            self._waiting[run_id] = wake
        return wake

    def forget(self, run_id: str) -> None:
        with self._lock:
            self._waiting.pop(run_id, None)

    def wake_all(self) -> None:
        """Every applying run looks at once (the controller is stopping)."""
        with self._lock:
            for wake in self._waiting.values():
                wake.set()

    def receive(self, run_id: str, secret: str) -> bool:
        """True when the callback woke an applying run; False (refused) otherwise."""
        run = self.book.get(run_id)
        if run is None or not hmac.compare_digest(run.callback_secret.encode(), secret.encode()):
            return False
        with self._lock:
            wake = self._waiting.get(run_id)
        if wake is None:
            return False  # the run is over: a late or replayed callback changes nothing
        wake.set()
        return True
