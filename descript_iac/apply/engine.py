"""Execute a plan: write-ahead intent, submit, poll, record. The only code that changes state.

Per project, actions run strictly in order, each job after the previous one stopped; projects
run side by side (up to `parallelism`, default all). Every POST holds its drive gate
(state/drive.py) from before it is sent until its job is known, so that no other POST that could
make a look-alike job is in flight or in doubt at the same time, in this process or any other
on the drive; POSTs of different gates are in flight together (sending.py), as many as the rate
limiter has budget for, the chains with the most actions left first. A POST whose reply is lost
keeps its gate until the job history proves what became of it (resolve.py); meanwhile other
gates go on. Polls come when jobs are expected to be over (schedule.py).

Only this thread journals and changes the document: workers run the HTTP calls alone and hand
an attempt's send time here to be journaled before it goes out (`Stamp`).

The engine is put together from its parts: the run's state and what every part does with a
chain (run_state.py), sending (dispatch.py), POSTs in doubt (doubts.py), polling (polling.py).
This module is the loop, and each chain's actions that send nothing.
"""

from __future__ import annotations

import math
import signal
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from descript_iac.api import InFlight
from descript_iac.api.models import IMPORT_JOB, PUBLISH_JOB
from descript_iac.apply.chain import Chain
from descript_iac.apply.dispatch import Dispatching
from descript_iac.apply.doubts import Doubting
from descript_iac.apply.options import ApplyOptions
from descript_iac.apply.polling import Polling
from descript_iac.apply.result import ApplyResult, Failure
from descript_iac.plan.diff import plan_project
from descript_iac.plan.model import Action, ActionKind
from descript_iac.state.events import ProjectForgotten, ProjectMoved

__all__ = ["ApplyOptions", "ApplyResult", "Engine", "Failure"]


class Engine(Dispatching, Doubting, Polling):
    # --- the loop ------------------------------------------------------------------------

    def run(self) -> ApplyResult:
        started = self._now()
        pending: deque[Chain] = deque(Chain(p) for p in self.plan.projects)
        limit = self.options.parallelism or math.inf
        self.schedule.last = started
        self._tick_due = started + self.options.poll_interval
        self.result.commit_span = self.timing.commit_span
        self.result.history_lag = self.timing.history_lag
        self.reporter.start(self.plan)
        with self._interrupts(), self._sender:
            while True:
                self._stop_requested()
                while not self.stopping and pending and self._live < limit:
                    self._live += 1
                    self._advance(pending.popleft())
                self._dispatch()
                if self._live == 0 and (self.stopping or not pending):
                    break
                self._wait()
                now = self._now()
                if now >= self._tick_due:
                    self._tick(now)
                if self._running and (self._woken() or now >= self._poll_due(now)):
                    self._poll_round()
        self.result.not_started = [c.address for c in pending]
        self.result.elapsed = self._now() - started
        if self.client.cache is not None:
            self.client.cache.keep_run_times(self.schedule.run_times)
        return self.result

    def _wait(self) -> None:
        """Until a worker has news or the next thing is due; news is handled here."""
        now = self._now()
        due = [self._tick_due] if self.doubts or self._waiting_gate else []
        if self._running:
            due.append(self._poll_due(now))
        if self._ready and len(self._flights) < self.options.max_in_flight:
            due.append(now + self.client.limiter.ready_in(self._keep))
        timeout = max(0.0, min(due) - now) if due else None
        if self._sender.busy:
            message = self._sender.next(timeout)
            while message is not None:
                self._handle(message)
                message = self._sender.next(0)
        elif timeout and self.options.wake is not None and self._running:
            self.options.wake.wait(timeout)  # a callback ends the wait early
        elif timeout:
            self._sleep(timeout)

    def _stop_requested(self) -> None:
        stop = self.options.stop
        if stop is not None and stop.is_set() and not self.stopping:
            self.stopping = True
            self.result.stopped_reason = "interrupted"
            self.reporter.note("Stopping: no new jobs will be sent; recording the running ones.")

    def _woken(self) -> bool:
        """A callback said a job changed: poll now (the callback is not read as data)."""
        wake = self.options.wake
        if wake is None or not wake.is_set():
            return False
        wake.clear()
        return True

    def _tick(self, now: float) -> None:
        """Doubts and gates held by other runs, every poll interval."""
        self._tick_due = now + self.options.poll_interval
        if self.doubts:
            self._resolve_doubts()
        waiting, self._waiting_gate = self._waiting_gate, []
        for chain in waiting:
            self._queue(chain)

    def _poll_due(self, now: float) -> float:
        rate = self.client.limiter.rate()
        # Chains parked behind a POST in doubt cannot use the budget until it is resolved
        # (seconds, or minutes at the seed level): polls are not put off for them, so that the
        # jobs that can go meanwhile (the next steps of projects already made) are found.
        parked = sum(len(p) for k, p in self._parked.items() if self._held.get(k) != "doubt")
        ready = len(self._ready) + parked
        drain = ready / rate if rate and ready and not self.stopping else 0.0
        return self.schedule.due(now, drain)

    @contextmanager
    def _interrupts(self) -> Iterator[None]:
        """First Ctrl-C: stop submitting, keep polling. Second: stop at once."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum: int, frame: Any) -> None:
            if self.stopping and self.result.stopped_reason == "interrupted":
                raise KeyboardInterrupt
            self.stopping = True
            self.result.stopped_reason = "interrupted"
            self.reporter.note(
                "Interrupted: no new jobs will be sent; waiting for the running ones to be "
                "recorded. Press Ctrl-C again to quit now (the journal keeps the next run safe)."
            )

        previous = signal.signal(signal.SIGINT, handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    # --- one project's chain --------------------------------------------------------------

    def _advance(self, chain: Chain) -> None:
        """Do the chain's actions that send nothing; queue the next POST, if any."""
        while True:
            action = chain.current()
            if action is None:
                self._end(chain, "done")
                return
            if action.kind is ActionKind.MOVE:
                assert action.moved_from is not None
                self.record(ProjectMoved(address=action.moved_from, to=chain.address))
                self.reporter.done(chain.address, action.label, "moved; nothing was sent")
                chain.index += 1
                continue
            if action.kind is ActionKind.FORGET:
                self.record(ProjectForgotten(address=chain.address))
                self.result.forgotten += 1
                self.reporter.done(chain.address, "forget", "forgotten (it stays in Descript)")
                chain.index += 1
                continue
            if action.kind is ActionKind.AWAIT:
                self._await_recorded(chain, action)
                return
            if action.kind is ActionKind.RESOLVE:
                self._await_intent(chain)
                return
            if action.kind is ActionKind.BLOCKED:
                raise RuntimeError(f"{chain.address}: blocked actions are not applied")
            self._queue(chain)
            return

    def _await_recorded(self, chain: Chain, action: Action) -> None:
        project = self.doc.projects[chain.address]
        if action.job_type == PUBLISH_JOB:
            record = project.publishes[action.compositions[0]]
            job = InFlight(record.job_id, PUBLISH_JOB, record.sent_at)
        elif action.step_id:
            step = project.step(action.step_id)
            assert step is not None and step.job_id is not None
            job = InFlight(step.job_id, "agent", step.sent_at)
        else:
            assert project.import_ is not None
            job = InFlight(project.import_.job_id, IMPORT_JOB, project.import_.sent_at)
        chain.action = action
        self._run(chain, job)

    def _replan(self, chain: Chain) -> None:
        """The project's recorded state changed under it: compute its actions again."""
        desired = self.workspace.projects.get(chain.address)
        chain.plan = plan_project(chain.address, desired, self.doc, self.plan.options)
        chain.index = 0
        if any(a.kind is ActionKind.BLOCKED for a in chain.plan.actions):
            reasons = "; ".join(a.reason for a in chain.plan.actions)
            self._fail(chain, chain.plan.actions[0], reasons)
            return
        self._advance(chain)
