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
"""

from __future__ import annotations

import heapq
import math
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from descript_iac.api import BatchPoller, DescriptClient, InFlight, OutcomeUnknown
from descript_iac.api.capabilities import Feature
from descript_iac.api.errors import (
    ApiError,
    NotSupported,
    PaymentRequired,
    ServerError,
    TransportFailure,
)
from descript_iac.api.models import AGENT_JOB, IMPORT_JOB, PUBLISH_JOB, Job
from descript_iac.api.ratelimit import Ticket
from descript_iac.apply.evidence import EvidenceReader, desired_names
from descript_iac.apply.outcome import describe, tally
from descript_iac.apply.outgoing import gate_of, intent_kind, outgoing
from descript_iac.apply.reconcile import gone_message
from descript_iac.apply.reporting import Reporter
from descript_iac.apply.resolve import Verdict, complete_at
from descript_iac.apply.result import ApplyResult, Failure
from descript_iac.apply.schedule import PollSchedule
from descript_iac.apply.sending import Reply, Sender, Stamp
from descript_iac.config.desired import Workspace
from descript_iac.errors import DescriptIacError
from descript_iac.failpoints import failpoint
from descript_iac.plan.diff import plan_project, quarantine_advice
from descript_iac.plan.model import Action, ActionKind, Plan, ProjectPlan
from descript_iac.state.document import Intent, Quarantine, StateDocument
from descript_iac.state.drive import Blocked, Claim, DriveRegistry, MemoryDriveRegistry, gate_key
from descript_iac.state.events import (
    Event,
    IntentDropped,
    IntentOpened,
    IntentSent,
    IntentUnknown,
    JobSubmitted,
    JobUpdated,
    ProjectForgotten,
    ProjectMoved,
    Quarantined,
    adopted,
)
from descript_iac.timing import Timing

MAX_FAILED_POLLS = 10  # poll rounds in a row that may fail (each already retried) before giving up
RESEND_STAMP = 0.25  # seconds after the intent's stamp from which an attempt's time is journaled
MAX_IN_FLIGHT = 16  # POSTs in flight at once (each on its own gate)

__all__ = ["ApplyOptions", "ApplyResult", "Engine", "Failure"]


@dataclass(frozen=True)
class ApplyOptions:
    parallelism: int | None = None  # projects at once; None: all (the rate limit paces them)
    wait: bool = True
    poll_interval: float = 2.0  # the longest wait between polls while jobs run, at first
    max_poll_interval: float = 15.0
    timing: Timing = field(default_factory=Timing)
    # How long past its window an intent may keep waiting (for a running import to show its
    # names) before the run leaves it in doubt for the next one, so no run waits for ever.
    max_doubt_wait: float = 1800.0
    # How long this run waits for one job to stop before leaving it running (recorded: the next
    # plan or apply picks it up), so no run holds the lock for ever on a job that never ends.
    max_job_wait: float = 6 * 3600.0
    max_in_flight: int = MAX_IN_FLIGHT


@dataclass(eq=False)
class _Chain:
    plan: ProjectPlan
    index: int = 0
    job: InFlight | None = None
    waiting_since: float = 0.0  # engine clock when this run began to wait for `job`
    action: Action | None = None
    # pending | ready | parked (its gate is this run's) | blocked (another run's) | flying
    # | running | waiting (its POST in doubt) | done | failed | stopped | submitted
    state: str = "pending"

    @property
    def address(self) -> str:
        return self.plan.address

    def current(self) -> Action | None:
        return self.plan.actions[self.index] if self.index < len(self.plan.actions) else None

    @property
    def left(self) -> int:
        return len(self.plan.actions) - self.index


@dataclass(eq=False)
class _Flight:
    """A POST handed to a worker: its gate is held until its job is known."""

    chain: _Chain
    action: Action
    intent: Intent
    claim: Claim
    key: str
    attempts: int = 0


@dataclass
class _Doubt:
    chain: _Chain
    intent_id: str
    key: str
    claim: Claim | None  # None: the intent of an earlier run (nothing is held for it)
    own: bool  # sent by this run: the chain goes on with the same action once its job is found
    reported: bool = False


FINAL = frozenset({"done", "failed", "stopped", "submitted"})


class Engine:
    def __init__(
        self,
        client: DescriptClient,
        doc: StateDocument,
        workspace: Workspace,
        plan: Plan,
        reporter: Reporter,
        record: Callable[[Event], None],
        options: ApplyOptions | None = None,
        registry: DriveRegistry | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.doc = doc
        self.record = record  # journals the event, then applies it to `doc`
        self.workspace = workspace
        self.plan = plan
        self.reporter = reporter
        self.options = options or ApplyOptions()
        self.timing = self.options.timing
        self.registry = registry or MemoryDriveRegistry()
        self.sleep = sleep
        self.poller = BatchPoller(client)
        self.evidence = EvidenceReader(
            client, self.registry, self.timing, desired_names(workspace, doc)
        )
        self.result = ApplyResult()
        self.stopping = False
        self.doubts: dict[str, _Doubt] = {}  # intent id -> the POST in doubt
        self.blocked: dict[str, str] = {}  # address -> the gate it waits for (reported once)
        self._skipped = 0.0  # time an injected sleep claimed that the clock did not show
        self._sender = Sender(self.options.max_in_flight)
        self._flights: dict[str, _Flight] = {}  # gate key -> the POST in flight
        self._held: dict[str, str] = {}  # gate key -> "flight" | "doubt" (this run's)
        self._ready: list[tuple[int, int, _Chain]] = []  # heap: most actions left first
        self._parked: dict[str, list[_Chain]] = {}  # gate key -> chains waiting for it
        self._waiting_gate: list[_Chain] = []  # blocked by another run: tried again each tick
        self._running: dict[str, _Chain] = {}  # job id -> its chain
        self._live = 0  # chains started and not over
        self._order = 0
        base = self.options.poll_interval
        self.schedule = PollSchedule(base, self.options.max_poll_interval)
        self._tick_due = 0.0  # next round of doubts and gates held elsewhere
        self._failed_polls = 0
        self._projects_api: bool | None = None  # whether the API has the projects endpoints

    # --- time -----------------------------------------------------------------------------

    def _now(self) -> float:
        return time.monotonic() + self._skipped

    def _sleep(self, seconds: float) -> None:
        before = self._now()
        self.sleep(seconds)
        # An injected sleep (tests on the emulator's manual clock) need not move the clock.
        self._skipped += max(0.0, seconds - (self._now() - before))

    # --- the loop ------------------------------------------------------------------------

    def run(self) -> ApplyResult:
        started = self._now()
        pending: deque[_Chain] = deque(_Chain(p) for p in self.plan.projects)
        limit = self.options.parallelism or math.inf
        self.schedule.last = started
        self._tick_due = started + self.options.poll_interval
        self.reporter.start(self.plan)
        with self._interrupts(), self._sender:
            while True:
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
                if self._running and now >= self._poll_due(now):
                    self._poll_round()
        self.result.not_started = [c.address for c in pending]
        self.result.elapsed = self._now() - started
        return self.result

    def _wait(self) -> None:
        """Until a worker has news or the next thing is due; news is handled here."""
        now = self._now()
        due = [self._tick_due] if self.doubts or self._waiting_gate else []
        if self._running:
            due.append(self._poll_due(now))
        if self._ready and len(self._flights) < self.options.max_in_flight:
            due.append(now + self.client.limiter.ready_in())
        timeout = max(0.0, min(due) - now) if due else None
        if self._sender.busy:
            message = self._sender.next(timeout)
            while message is not None:
                self._handle(message)
                message = self._sender.next(0)
        elif timeout:
            self._sleep(timeout)

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
        ready = len(self._ready) + sum(len(p) for p in self._parked.values())
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

    def _end(self, chain: _Chain, state: str) -> None:
        if chain.state not in FINAL:
            self._live -= 1
        chain.state = state

    def _advance(self, chain: _Chain) -> None:
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

    def _queue(self, chain: _Chain) -> None:
        if self.stopping:
            self._end(chain, "stopped")
            return
        chain.state = "ready"
        self._order += 1
        heapq.heappush(self._ready, (-chain.left, self._order, chain))

    def _dispatch(self) -> None:
        """Send the ready POSTs that the gates, the workers and the rate budget allow."""
        limiter = self.client.limiter
        while self._ready and len(self._flights) < self.options.max_in_flight:
            chain = self._ready[0][2]
            if self.stopping:
                heapq.heappop(self._ready)
                self._end(chain, "stopped")
                continue
            action = chain.current()
            assert action is not None
            key = gate_of(action, self.doc, chain.address)
            if key in self._held:  # this run's POST of the same gate is in flight or in doubt
                heapq.heappop(self._ready)
                chain.state = "parked"
                self._parked.setdefault(key, []).append(chain)
                if self._held[key] == "doubt":
                    self._report_blocked(chain, Blocked(key, "this process", None))
                continue
            lone = self._lone(action)
            if lone and self._flights:
                return  # it goes alone: once the POSTs in flight have landed
            ticket = limiter.try_acquire()
            if ticket is None:
                return
            heapq.heappop(self._ready)
            flight = self._submit(chain, action, ticket)
            if lone and flight is not None:
                while flight.key in self._flights:  # nothing else happens until it landed
                    message = self._sender.next(None)
                    assert message is not None
                    self._handle(message)

    def _lone(self, action: Action) -> bool:
        """Whether the action's POST is sent alone: nothing else in flight, and nothing else
        done (no poll, no journal write) until its reply is recorded, so that no crash can leave
        it in doubt but its own. That is a prompt-only create where the API has no projects
        endpoints: lost, nothing but a person can tell its job from another client's."""
        if action.job_type != AGENT_JOB or intent_kind(action) != "create":
            return False
        if self._projects_api is None:
            self._projects_api = self.client.capabilities().has(Feature.PROJECTS)
        return not self._projects_api

    def _free(self, key: str) -> None:
        """This run no longer holds the gate `key`: its waiting chains go on."""
        self._held.pop(key, None)
        for chain in self._parked.pop(key, []):
            self._queue(chain)

    def _await_recorded(self, chain: _Chain, action: Action) -> None:
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

    def _run(self, chain: _Chain, job: InFlight) -> None:
        """The chain waits for `job` to stop (or, with --no-wait, is done with it)."""
        chain.job = job
        chain.waiting_since = self._now()
        if not self.options.wait:  # --no-wait: a chain is done once its job is sent
            chain.job = None
            self._end(chain, "submitted")
            self.result.submitted_only.append(chain.address)
            return
        chain.state = "running"
        self._running[job.job_id] = chain

    def _await_intent(self, chain: _Chain) -> None:
        """An intent an earlier run left open: find its job before anything else is sent."""
        intent = self.doc.projects[chain.address].intents[0]
        key = gate_key(intent.job_type, intent.project_id)
        self.doubts[intent.intent_id] = _Doubt(chain, intent.intent_id, key, None, own=False)
        chain.state = "waiting"

    def _replan(self, chain: _Chain) -> None:
        """The project's recorded state changed under it: compute its actions again."""
        desired = self.workspace.projects.get(chain.address)
        chain.plan = plan_project(chain.address, desired, self.doc, self.plan.options)
        chain.index = 0
        if any(a.kind is ActionKind.BLOCKED for a in chain.plan.actions):
            reasons = "; ".join(a.reason for a in chain.plan.actions)
            self._fail(chain, chain.plan.actions[0], reasons)
            return
        self._advance(chain)

    def _window_end(self, sent_at: float, error: float) -> float:
        return sent_at + error + self.timing.commit_span

    # --- sending --------------------------------------------------------------------------

    def _submit(self, chain: _Chain, action: Action, ticket: Ticket) -> _Flight | None:
        limiter = self.client.limiter
        try:
            intent, send = outgoing(self.client, self.doc, self.workspace, chain.address, action)
        except DescriptIacError as exc:  # nothing was sent: e.g. a composition the import lacks
            limiter.release(ticket)
            self._fail(chain, action, str(exc))
            return None
        key = gate_key(intent.job_type, intent.project_id)
        end = self._window_end(intent.sent_at, intent.clock_error)
        claim = self.registry.claim(key, intent.intent_id, end, self.client.clock.now())
        if isinstance(claim, Blocked):
            limiter.release(ticket)
            chain.state = "blocked"
            self._waiting_gate.append(chain)
            self._report_blocked(chain, claim)
            return None
        self.blocked.pop(chain.address, None)
        try:
            self.record(IntentOpened(address=chain.address, intent=intent))
        except BaseException:
            limiter.release(ticket)
            self.registry.release(claim)
            raise
        failpoint("after_intent")
        chain.action = action
        chain.state = "flying"
        flight = _Flight(chain, action, intent, claim, key)
        self._flights[key] = flight
        self._held[key] = "flight"
        sender = self._sender

        def on_send(sent_at: float, error: float) -> None:
            # On the worker's thread, just before each attempt goes out: an attempt later than
            # the intent's stamp, or a retry, is journaled first (by this engine's thread).
            flight.attempts += 1
            if flight.attempts == 1 and sent_at - intent.sent_at <= RESEND_STAMP:
                sender.check()
                return
            sender.stamp(flight, sent_at, error)

        sender.start(flight, lambda hook: send(hook, ticket), on_send)
        return flight

    def _handle(self, message: Stamp | Reply) -> None:
        flight: _Flight = message.flight
        if isinstance(message, Stamp):
            try:
                self.record(
                    IntentSent(
                        address=flight.chain.address,
                        intent_id=flight.intent.intent_id,
                        sent_at=message.sent_at,
                        clock_error=message.error,
                    )
                )
                self.registry.extend(flight.claim, self._window_end(message.sent_at, message.error))
            except BaseException:
                message.answer(False)
                raise
            message.answer(True)
            return
        del self._flights[flight.key]
        self._replied(flight, message)

    def _replied(self, flight: _Flight, reply: Reply) -> None:
        chain, action, intent, claim = flight.chain, flight.action, flight.intent, flight.claim
        exc = reply.error
        if isinstance(exc, OutcomeUnknown):
            self.record(
                IntentUnknown(address=chain.address, intent_id=intent.intent_id, reason=exc.reason)
            )
            self.doubts[intent.intent_id] = _Doubt(
                chain, intent.intent_id, flight.key, claim, own=True
            )
            self._held[flight.key] = "doubt"
            chain.state = "waiting"
            # The history is read one interval after the reply was lost at the earliest: what
            # the server did, and other clients' jobs of the same moment, show there a bit later.
            self._tick_due = max(self._tick_due, self._now() + self.options.poll_interval)
            self.reporter.note(f"{chain.address}: {exc}")
            for parked in self._parked.get(flight.key, []):
                self._report_blocked(parked, Blocked(flight.key, "this process", None))
            return
        if isinstance(exc, PaymentRequired):
            self._refused(flight, exc)
            self.stopping = True
            self.result.stopped_reason = "out of credits (402): nothing new was sent after it"
            return
        if isinstance(exc, (ApiError, TransportFailure, NotSupported)):
            self._refused(flight, exc)
            return
        if exc is not None:  # Abandoned cannot come while the run goes on: anything else is
            raise exc  # a bug or an interrupt, raised here as if the call had been made here
        assert reply.created is not None
        failpoint("after_post")
        self._submitted(chain, action, intent.intent_id, reply.created.model_dump())
        self.registry.release(claim)
        self._free(flight.key)
        failpoint("after_job_recorded")

    def _report_blocked(self, chain: _Chain, blocked: Blocked) -> None:
        if self.blocked.get(chain.address) == blocked.key:
            return
        self.blocked[chain.address] = blocked.key
        job_type = blocked.key.split("@")[0]
        if blocked.until is not None:
            why = (
                f"a {job_type} job sent by a run that stopped ({blocked.holder}) may still appear "
                f"until {self._clock_text(blocked.until)}"
            )
        else:
            why = f"{blocked.holder} has a {job_type} job in doubt"
        self.reporter.note(f"{chain.address}: waiting: {why}; a look-alike job must not be sent")

    def _refused(self, flight: _Flight, exc: Exception) -> None:
        # The server did nothing (a reply that proves it, or no connection): the intent closes.
        chain = flight.chain
        self.record(
            IntentDropped(
                address=chain.address, intent_id=flight.intent.intent_id, reason=f"refused: {exc}"
            )
        )
        self.registry.release(flight.claim)
        self._free(flight.key)
        self._fail(chain, flight.action, str(exc))

    def _submitted(
        self, chain: _Chain, action: Action, intent_id: str, reply: dict[str, Any]
    ) -> None:
        intent = next(
            i for i in self.doc.projects[chain.address].intents if i.intent_id == intent_id
        )
        self.record(
            JobSubmitted(
                address=chain.address,
                intent_id=intent_id,
                job_id=reply["job_id"],
                project_id=reply.get("project_id"),
                drive_id=reply.get("drive_id"),
                project_url=reply.get("project_url"),
            )
        )
        self.registry.record_jobs({reply["job_id"]})
        self.result.jobs_issued += 1
        self.schedule.sent(intent.job_type, self._now())
        chain.action = action
        self.reporter.submitted(chain.address, action.label, reply["job_id"])
        self._run(chain, InFlight(reply["job_id"], intent.job_type, intent.sent_at))

    # --- POSTs in doubt --------------------------------------------------------------------

    def _resolve_doubts(self) -> None:
        intents = []
        for doubt in self.doubts.values():
            project = self.doc.projects[doubt.chain.address]
            intent = next(i for i in project.intents if i.intent_id == doubt.intent_id)
            intents.append((doubt.chain.address, intent))
        verdicts = self.evidence.verdicts(self.doc, intents)
        for _, intent in intents:
            self._settle(self.doubts[intent.intent_id], intent, verdicts[intent.intent_id])

    def _settle(self, doubt: _Doubt, intent: Intent, verdict: Verdict) -> None:
        what = f"{doubt.chain.address}: the {intent.step_id or intent.action} job"
        if verdict.kind == "wait":
            self._keep_waiting(doubt, intent, verdict, what)
            return
        del self.doubts[doubt.intent_id]
        try:
            self._conclude(doubt, intent, verdict, what)
        finally:  # the outcome is recorded: the gate is free
            self._release_doubt(doubt)

    def _release_doubt(self, doubt: _Doubt) -> None:
        if doubt.claim is not None:
            self.registry.release(doubt.claim)
            self._free(doubt.key)
        else:
            self.registry.settle(doubt.key, doubt.intent_id)

    def _conclude(self, doubt: _Doubt, intent: Intent, verdict: Verdict, what: str) -> None:
        chain, address = doubt.chain, doubt.chain.address
        if verdict.kind == "adopt" and verdict.job is not None:
            job = verdict.job.model_dump(mode="json", exclude_none=True)
            self.reporter.note(f"{what} is {job['job_id']}: {verdict.reason}")
            if doubt.own and chain.action is not None:
                self._submitted(chain, chain.action, intent.intent_id, job)
                return
            for event in adopted(address, intent.intent_id, job):
                self.record(event)
            self.registry.record_jobs({job["job_id"]})
            self._replan(chain)
        elif verdict.kind == "reissue":
            self.record(
                IntentDropped(address=address, intent_id=intent.intent_id, reason=verdict.reason)
            )
            self.reporter.note(f"{what} was never created ({verdict.reason}); sending it again")
            if doubt.own:
                self._queue(chain)
            else:
                self._replan(chain)
        else:
            quarantine = Quarantine(
                reason=verdict.reason,
                candidates=list(verdict.candidates),
                intent_id=intent.intent_id,
            )
            self.record(Quarantined(address=address, quarantine=quarantine))
            action = chain.action or chain.current()
            assert action is not None
            self._fail(
                chain, action, quarantine_advice(address, verdict.reason, verdict.candidates)
            )

    def _keep_waiting(self, doubt: _Doubt, intent: Intent, verdict: Verdict, what: str) -> None:
        chain = doubt.chain
        now = self.client.clock.now()
        give_up = complete_at(intent, self.timing) + self.options.max_doubt_wait
        if self.stopping or now > give_up:
            # Leave it open: the intent stays in the state, and the next run resolves it.
            del self.doubts[doubt.intent_id]
            if doubt.claim is not None:
                self.registry.release(doubt.claim)  # its window is recorded with the gate
                self._free(doubt.key)  # what waited for it asks the registry again
            self._end(chain, "stopped")
            self.result.left_in_doubt.append(chain.address)
            self.reporter.note(f"{what} is left in doubt ({verdict.reason}); run apply again later")
            return
        if not doubt.reported:
            doubt.reported = True
            until = f" until {self._clock_text(verdict.until)}" if verdict.until else ""
            self.reporter.note(f"{what}: waiting for evidence{until} ({verdict.reason})")

    def _clock_text(self, server_time: float) -> str:
        local = server_time - self.client.clock.offset
        return datetime.fromtimestamp(local).strftime("%H:%M:%S")

    # --- polling --------------------------------------------------------------------------

    def _poll_round(self) -> None:
        try:
            finished = self._poll()
            self._failed_polls = 0
        except (TransportFailure, ServerError) as exc:
            # The jobs run on regardless: keep trying, and give up only after a while (the
            # journal lets the next run pick them up).
            self._failed_polls += 1
            if self._failed_polls > MAX_FAILED_POLLS:
                raise
            self.reporter.note(f"Polling failed ({exc}); retrying.")
            finished = 0
        now = self._now()
        self.schedule.polled(now, finished)
        self._leave_overdue(now)

    def _poll(self) -> int:
        in_flight = dict(self._running)
        jobs = self.poller.refresh({job_id: c.job for job_id, c in in_flight.items() if c.job})
        failpoint("mid_poll")
        finished = 0
        for job_id, chain in in_flight.items():
            job = jobs.get(job_id)
            if job is None:
                if job_id in self.poller.gone:
                    # Past the history: nothing can be learnt of it; the project waits for a
                    # person (`state drop-job`), the rest of the apply goes on.
                    del self._running[job_id]
                    chain.job = None
                    self._end(chain, "stopped")
                    self.result.attention.append(gone_message(chain.address, job_id))
                continue
            if not job.finished:
                self.reporter.progress(
                    chain.address, chain.action.label if chain.action else "", job
                )
                continue
            finished += 1
            self.record(
                JobUpdated(
                    address=chain.address, job=job.model_dump(mode="json", exclude_none=True)
                )
            )
            failpoint("after_job_stopped")
            del self._running[job_id]
            self.schedule.learn(job)
            self._finished(chain, job)
        return finished

    def _leave_overdue(self, now: float) -> None:
        limit = self.options.max_job_wait
        for job_id, chain in list(self._running.items()):
            if now - chain.waiting_since > limit:
                self.result.attention.append(
                    f"{chain.address}: job {job_id} is still running after "
                    f"{limit / 3600:g} h; left running and recorded: the next plan or apply picks "
                    "it up"
                )
                del self._running[job_id]
                chain.job = None
                self._end(chain, "stopped")

    def _finished(self, chain: _Chain, job: Job) -> None:
        action = chain.action
        assert action is not None
        chain.job = None
        ok = job.result is not None and job.result.status == "success"
        tally(self.result, job, action, ok)
        message = describe(job)
        self.reporter.stopped(chain.address, action.label, job, ok, message)
        if not ok:
            self._fail(chain, action, message)
            return
        chain.index += 1
        self._advance(chain)

    def _fail(self, chain: _Chain, action: Action, message: str) -> None:
        chain.job = None
        self._end(chain, "failed")
        self.result.failures.append(Failure(chain.address, action.label, message))
