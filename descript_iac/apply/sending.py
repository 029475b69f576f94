"""Job-creating POSTs on worker threads, so that several are in flight at once; everything that
changes the state stays on the engine's thread.

A worker runs only the HTTP call. When an attempt must be journaled before it goes out (a retry,
or a send later than the intent's stamp), the worker hands a `Stamp` to the engine's thread and
waits until it is journaled; its reply or error comes back as a `Reply`. Once the run has ended
(`close`), no attempt goes out any more: a worker that has not sent yet raises `Abandoned`, and
the intent stays open in the journal for the next run to resolve.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from descript_iac.api.models import JobCreated

ANSWER_POLL = 0.2  # seconds between checks, while a worker waits for its stamp, that the run ended

OnSend = Callable[[float, float], None]
Call = Callable[[OnSend], JobCreated]


class Abandoned(Exception):
    """The run ended before this attempt went out: it was not sent."""


@dataclass(eq=False)
class Stamp:
    """An attempt's send time, to journal before the attempt goes out."""

    flight: Any
    sent_at: float
    error: float
    _answered: threading.Event = field(default_factory=threading.Event)
    _ok: bool = False

    def answer(self, ok: bool) -> None:
        """Journaled (`ok`): the attempt may go; else it must not."""
        self._ok = ok
        self._answered.set()


@dataclass(frozen=True, eq=False)
class Reply:
    """A POST's outcome: the job it created, or the error it raised."""

    flight: Any
    created: JobCreated | None
    error: BaseException | None


class Sender:
    """Runs calls on up to `size` daemon threads; messages come back through `next`."""

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self._work: queue.SimpleQueue[tuple[Any, Call, OnSend] | None] = queue.SimpleQueue()
        self._out: queue.SimpleQueue[Stamp | Reply] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._lock = threading.Lock()
        self.busy = 0  # calls handed out and not answered yet (engine thread only)
        self.closed = False

    def start(self, flight: Any, call: Call, on_send: OnSend) -> None:
        """Run `call(on_send)` on a worker; its `Reply` carries `flight`."""
        self.busy += 1
        with self._lock:
            spawn = self._idle == 0 and len(self._threads) < self.size
            if not spawn:
                self._idle -= 1
        if spawn:
            thread = threading.Thread(target=self._work_loop, name="descript-iac-post", daemon=True)
            self._threads.append(thread)
            thread.start()
        self._work.put((flight, call, on_send))

    def stamp(self, flight: Any, sent_at: float, error: float) -> None:
        """From a worker: wait until the engine journaled this attempt; `Abandoned` if the run
        ended first."""
        if self.closed:
            raise Abandoned
        stamp = Stamp(flight, sent_at, error)
        self._out.put(stamp)
        while not stamp._answered.wait(ANSWER_POLL):
            if self.closed:
                raise Abandoned
        if not stamp._ok:
            raise Abandoned

    def check(self) -> None:
        """From a worker, just before an attempt that needs no stamp goes out."""
        if self.closed:
            raise Abandoned

    def next(self, timeout: float | None) -> Stamp | Reply | None:
        """The next message, waiting up to `timeout` seconds (None: for ever)."""
        try:
            message = self._out.get(timeout=timeout) if timeout != 0 else self._out.get_nowait()
        except queue.Empty:
            return None
        if isinstance(message, Reply):
            self.busy -= 1
        return message

    def close(self) -> None:
        """No attempt goes out after this; idle workers stop."""
        self.closed = True
        while True:  # stamps nobody will journal now: their attempts must not go out
            try:
                message = self._out.get_nowait()
            except queue.Empty:
                break
            if isinstance(message, Stamp):
                message.answer(False)
        for _ in self._threads:
            self._work.put(None)

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _work_loop(self) -> None:
        while True:
            item = self._work.get()
            if item is None:
                return
            flight, call, on_send = item
            reply: Reply
            try:
                reply = Reply(flight, call(on_send), None)
            except BaseException as exc:  # handed to the engine's thread, which decides
                reply = Reply(flight, None, exc)
            self._out.put(reply)
            with self._lock:
                self._idle += 1
