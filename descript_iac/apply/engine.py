"""Execute a plan: write-ahead intent, submit, poll, record. The only code that changes state.

Per project, actions run strictly in order, each job after the previous one stopped; projects
run side by side up to `parallelism`. Every POST holds its drive gate (state/drive.py) from
before it is sent until its job is known, so that no other POST that could make a look-alike job
is in doubt at the same time, in this process or any other on the drive. A POST whose reply is
lost keeps its gate until the job history proves what became of it (resolve.py); meanwhile other
job types and other projects go on.
"""

from __future__ import annotations

import signal
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from descript_iac.api import BatchPoller, DescriptClient, InFlight, OutcomeUnknown, fingerprint
from descript_iac.api.errors import ApiError, PaymentRequired, ServerError, TransportFailure
from descript_iac.api.models import IMPORT_JOB, Job, JobCreated
from descript_iac.apply.evidence import EvidenceReader, desired_names
from descript_iac.apply.reconcile import gone_message
from descript_iac.apply.reporting import Reporter
from descript_iac.apply.requests import agent_request, find_step, import_request
from descript_iac.apply.resolve import Verdict, complete_at
from descript_iac.apply.result import ApplyResult, Failure
from descript_iac.config.desired import Workspace
from descript_iac.failpoints import failpoint
from descript_iac.plan import digests
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
    Quarantined,
    adopted,
)
from descript_iac.timing import Timing

MAX_FAILED_POLLS = 10  # poll rounds in a row that may fail (each already retried) before giving up
RESEND_STAMP = 0.25  # seconds after the intent's stamp from which an attempt's time is journaled

__all__ = ["ApplyOptions", "ApplyResult", "Engine", "Failure"]


@dataclass(frozen=True)
class ApplyOptions:
    parallelism: int = 8
    wait: bool = True
    poll_interval: float = 2.0
    max_poll_interval: float = 15.0
    timing: Timing = field(default_factory=Timing)
    # How long past its window an intent may keep waiting (for a running import to show its
    # names) before the run leaves it in doubt for the next one, so no run waits for ever.
    max_doubt_wait: float = 1800.0
    # How long this run waits for one job to stop before leaving it running (recorded: the next
    # plan or apply picks it up), so no run holds the lock for ever on a job that never ends.
    max_job_wait: float = 6 * 3600.0


@dataclass
class _Chain:
    plan: ProjectPlan
    index: int = 0
    job: InFlight | None = None
    waiting_since: float = 0.0  # time.monotonic() when this run began to wait for `job`
    action: Action | None = None
    # pending | active | waiting (its POST in doubt) | blocked (its gate is taken)
    # | done | failed | stopped | submitted
    state: str = "pending"

    @property
    def address(self) -> str:
        return self.plan.address

    def current(self) -> Action | None:
        return self.plan.actions[self.index] if self.index < len(self.plan.actions) else None


@dataclass
class _Doubt:
    chain: _Chain
    intent_id: str
    key: str
    claim: Claim | None  # None: the intent of an earlier run (nothing is held for it)
    own: bool  # sent by this run: the chain goes on with the same action once its job is found
    reported: bool = False


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
        self.progressed = False  # a job was sent or found since the last poll

    # --- the loop ------------------------------------------------------------------------

    def run(self) -> ApplyResult:
        started = time.monotonic()
        pending: deque[_Chain] = deque(_Chain(p) for p in self.plan.projects)
        active: list[_Chain] = []
        interval = self.options.poll_interval
        failed_polls = 0
        self.reporter.start(self.plan)
        with self._interrupts():
            while True:
                while not self.stopping and pending and len(active) < self.options.parallelism:
                    chain = pending.popleft()
                    chain.state = "active"
                    active.append(chain)
                if self.doubts:
                    self._resolve_doubts()
                for chain in active:
                    if chain.state in ("active", "blocked") and chain.job is None:
                        self._advance(chain)
                if not self.options.wait:  # --no-wait: a chain is done once its job is sent
                    for chain in active:
                        if chain.job is not None:
                            chain.state = "submitted"
                            self.result.submitted_only.append(chain.address)
                active = [c for c in active if c.state in ("active", "waiting", "blocked")]
                if not active and (self.stopping or not pending):
                    break
                self._leave_overdue(active)
                in_flight = {c.job.job_id: c for c in active if c.job is not None}
                idle = not in_flight and not self.doubts
                if idle and not any(c.state == "blocked" for c in active):
                    continue  # a chain became free to submit, or new chains can start
                self.sleep(interval)
                try:
                    finished = self._poll(in_flight) if in_flight else 0
                    failed_polls = 0
                except (TransportFailure, ServerError) as exc:
                    # The jobs run on regardless: keep trying, and give up only after a while
                    # (the journal lets the next run pick them up).
                    failed_polls += 1
                    if failed_polls > MAX_FAILED_POLLS:
                        raise
                    self.reporter.note(f"Polling failed ({exc}); retrying.")
                    finished = 0
                # Back off while jobs run long; poll at the base rate again once anything moved,
                # while a POST is in doubt, or while a chain waits for a gate (another run may
                # free it at any moment).
                base, cap = self.options.poll_interval, self.options.max_poll_interval
                waiting = any(c.state == "blocked" for c in active)
                busy = finished or self.doubts or self.progressed or waiting
                interval = base if busy else min(cap, interval * 1.5)
                self.progressed = False
        self.result.not_started = [c.address for c in pending]
        self.result.elapsed = time.monotonic() - started
        return self.result

    def _leave_overdue(self, active: list[_Chain]) -> None:
        limit = self.options.max_job_wait
        for chain in active:
            if chain.job is not None and time.monotonic() - chain.waiting_since > limit:
                self.result.attention.append(
                    f"{chain.address}: job {chain.job.job_id} is still running after "
                    f"{limit / 3600:g} h; left running and recorded: the next plan or apply picks "
                    "it up"
                )
                chain.job = None
                chain.state = "stopped"

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

    def _advance(self, chain: _Chain) -> None:
        chain.state = "active"
        while chain.job is None:
            action = chain.current()
            if action is None:
                chain.state = "done"
                return
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
            if self.stopping:
                chain.state = "stopped"
                return
            self._submit(chain, action)
            return

    def _await_recorded(self, chain: _Chain, action: Action) -> None:
        project = self.doc.projects[chain.address]
        if action.step_id:
            step = project.step(action.step_id)
            assert step is not None
            chain.job = InFlight(step.job_id, "agent", step.sent_at)
        else:
            assert project.import_ is not None
            chain.job = InFlight(project.import_.job_id, IMPORT_JOB, project.import_.sent_at)
        chain.waiting_since = time.monotonic()
        chain.action = action

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
        chain.state = "active"
        if any(a.kind is ActionKind.BLOCKED for a in chain.plan.actions):
            reasons = "; ".join(a.reason for a in chain.plan.actions)
            self._fail(chain, chain.plan.actions[0], reasons)

    def _outgoing(self, chain: _Chain, action: Action) -> tuple[Intent, Callable[..., JobCreated]]:
        """The intent to journal and the POST to send for `action`."""
        desired = self.workspace.projects[chain.address]
        salt = self.doc.salt
        project = self.doc.projects.get(chain.address)
        project_id = project.project_id if project else None
        facets = digests.import_facets(salt, desired)
        send: Callable[..., JobCreated]
        if action.job_type == IMPORT_JOB:
            kind = "update" if action.kind is ActionKind.UPDATE else "create"
            imported = import_request(desired, action, project_id if kind == "update" else None)
            body, path = imported.body(), "jobs/import/project_media"
            send = lambda on_send: self.client.import_project_media(imported, on_send)  # noqa: E731
            step_digest = None
        else:
            step = find_step(desired, action.step_id)
            kind = "create" if action.kind in (ActionKind.CREATE, ActionKind.REPLACE) else "step"
            prompt = agent_request(desired, step, project_id if kind == "step" else None)
            body, path = prompt.body(), "jobs/agent"
            send = lambda on_send: self.client.agent(prompt, on_send)  # noqa: E731
            step_digest = digests.step_digest(salt, desired, step)
        intent = Intent(
            intent_id=str(uuid.uuid4()),
            action=kind,
            step_id=action.step_id,
            fingerprint=fingerprint("POST", path, body),
            sent_at=self.client.clock.now(),
            clock_error=self.client.clock.error,
            job_type=action.job_type or "",
            media_names=sorted(action.media),
            composition_names=sorted(action.compositions),
            project_id=project_id if kind in ("update", "step") else None,
            facets=facets,
            media={n: facets.media[n] for n in action.media},
            step_digest=step_digest,
            replaces=action.kind is ActionKind.REPLACE,
        )
        return intent, send

    def _window_end(self, sent_at: float, error: float) -> float:
        return sent_at + error + self.timing.commit_span

    def _submit(self, chain: _Chain, action: Action) -> None:
        intent, send = self._outgoing(chain, action)
        key = gate_key(intent.job_type, intent.project_id)
        end = self._window_end(intent.sent_at, intent.clock_error)
        claim = self.registry.claim(key, intent.intent_id, end, self.client.clock.now())
        if isinstance(claim, Blocked):
            chain.state = "blocked"
            self._report_blocked(chain, claim)
            return
        self.blocked.pop(chain.address, None)
        self.record(IntentOpened(address=chain.address, intent=intent))
        failpoint("after_intent")
        chain.action = action

        attempts = 0

        def on_send(sent_at: float, error: float) -> None:
            # Journaled before the request goes out: the job, if any, is created after this.
            nonlocal attempts
            attempts += 1
            if attempts > 1 or sent_at - intent.sent_at > RESEND_STAMP:
                self.record(
                    IntentSent(
                        address=chain.address,
                        intent_id=intent.intent_id,
                        sent_at=sent_at,
                        clock_error=error,
                    )
                )
                self.registry.extend(claim, self._window_end(sent_at, error))

        try:
            created = send(on_send)
        except OutcomeUnknown as exc:
            self.record(
                IntentUnknown(address=chain.address, intent_id=intent.intent_id, reason=exc.reason)
            )
            self.doubts[intent.intent_id] = _Doubt(chain, intent.intent_id, key, claim, own=True)
            chain.state = "waiting"
            self.reporter.note(f"{chain.address}: {exc}")
            return
        except PaymentRequired as exc:
            self._refused(chain, action, intent, claim, exc)
            self.stopping = True
            self.result.stopped_reason = "out of credits (402): nothing new was sent after it"
            return
        except (ApiError, TransportFailure) as exc:
            self._refused(chain, action, intent, claim, exc)
            return
        failpoint("after_post")
        self._submitted(chain, action, intent.intent_id, created.model_dump())
        self.registry.release(claim)
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

    def _refused(
        self, chain: _Chain, action: Action, intent: Intent, claim: Claim, exc: Exception
    ) -> None:
        # The server did nothing (a reply that proves it, or no connection): the intent closes.
        self.record(
            IntentDropped(
                address=chain.address, intent_id=intent.intent_id, reason=f"refused: {exc}"
            )
        )
        self.registry.release(claim)
        self._fail(chain, action, str(exc))

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
        self.progressed = True
        chain.job = InFlight(reply["job_id"], intent.job_type, intent.sent_at)
        chain.waiting_since = time.monotonic()
        chain.state = "active"
        self.reporter.submitted(chain.address, action.label, reply["job_id"])

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
            if doubt.claim is not None:
                self.registry.release(doubt.claim)
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
                chain.state = "active"
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
            chain.state = "stopped"
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

    def _poll(self, in_flight: dict[str, _Chain]) -> int:
        jobs = self.poller.refresh({job_id: c.job for job_id, c in in_flight.items() if c.job})
        failpoint("mid_poll")
        finished = 0
        for job_id, chain in in_flight.items():
            job = jobs.get(job_id)
            if job is None:
                if job_id in self.poller.gone:
                    # Past the history: nothing can be learnt of it; the project waits for a
                    # person (`state drop-job`), the rest of the apply goes on.
                    chain.job = None
                    chain.state = "stopped"
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
            self._finished(chain, job)
        return finished

    def _finished(self, chain: _Chain, job: Job) -> None:
        action = chain.action
        assert action is not None
        chain.job = None
        result = job.result
        status = result.status if result else job.job_state
        if result is not None:
            self.result.media_seconds += float(result.media_seconds_used or 0)
            if job.agent_result is not None:
                self.result.ai_credits += float(job.agent_result.ai_credits_used or 0)
        ok = status == "success"
        message = self._describe(job)
        self.reporter.stopped(chain.address, action.label, job, ok, message)
        if not ok:
            self._fail(chain, action, message)
            return
        if action.kind is ActionKind.CREATE:
            self.result.created += 1
        elif action.kind is ActionKind.REPLACE:
            self.result.replaced += 1
        elif action.kind is ActionKind.UPDATE:
            self.result.updated += 1
        if action.step_id:
            self.result.steps_run += 1
        chain.index += 1

    @staticmethod
    def _describe(job: Job) -> str:
        result = job.result
        if result is None:
            return job.job_state
        if job.agent_result is not None and job.agent_result.agent_response:
            text = job.agent_result.agent_response
        elif job.import_result is not None:
            statuses = job.import_result.media_status
            failed = [
                f"{n} ({m.error_message or m.status})"
                for n, m in statuses.items()
                if m.status != "success"
            ]
            text = f"{len(statuses)} media"
            if failed:
                text += f", failed: {', '.join(failed)}"
        else:
            text = ""
        if result.error_message:
            text = f"{result.error_message}" + (f" ({text})" if text else "")
        return f"{result.status}: {text}" if text else result.status

    def _fail(self, chain: _Chain, action: Action, message: str) -> None:
        chain.state = "failed"
        chain.job = None
        self.result.failures.append(Failure(chain.address, action.label, message))
