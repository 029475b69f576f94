"""Execute a plan: write-ahead intent, submit, poll, record. The only code that changes state.

Per project, actions run strictly in order, each job after the previous one stopped; projects
run side by side up to `parallelism`. POSTs are sent one at a time, and while one POST's outcome
is in doubt no other POST of the same job type is sent, so the job history can always tell
which job an intent made (see resolve.py).
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
from typing import Any

from descript_iac.api import BatchPoller, DescriptClient, InFlight, OutcomeUnknown, fingerprint
from descript_iac.api.errors import ApiError, PaymentRequired, ServerError, TransportFailure
from descript_iac.api.models import IMPORT_JOB, Job, JobCreated
from descript_iac.apply.progress import Reporter
from descript_iac.apply.reconcile import SKEW, history_since, job_event
from descript_iac.apply.requests import agent_request, find_step, import_request
from descript_iac.apply.resolve import DEFAULT_GRACE, resolve_intent
from descript_iac.config.desired import Workspace
from descript_iac.failpoints import failpoint
from descript_iac.plan import digests
from descript_iac.plan.model import Action, ActionKind, Plan, ProjectPlan
from descript_iac.state.document import Intent, StateDocument
from descript_iac.state.events import Event, dropped

MAX_FAILED_POLLS = 10  # poll rounds in a row that may fail (each already retried) before giving up


@dataclass(frozen=True)
class ApplyOptions:
    parallelism: int = 8
    wait: bool = True
    poll_interval: float = 2.0
    max_poll_interval: float = 15.0
    grace: float = DEFAULT_GRACE


@dataclass
class Failure:
    address: str
    label: str
    message: str


@dataclass
class ApplyResult:
    jobs_issued: int = 0
    created: int = 0
    replaced: int = 0
    updated: int = 0
    steps_run: int = 0
    forgotten: int = 0
    media_seconds: float = 0.0
    ai_credits: float = 0.0
    failures: list[Failure] = field(default_factory=list)
    stopped_reason: str | None = None
    not_started: list[str] = field(default_factory=list)
    submitted_only: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures and self.stopped_reason is None


@dataclass
class _Chain:
    plan: ProjectPlan
    index: int = 0
    job: InFlight | None = None
    action: Action | None = None
    state: str = "pending"  # pending | active | waiting | done | failed | stopped

    @property
    def address(self) -> str:
        return self.plan.address

    def current(self) -> Action | None:
        return self.plan.actions[self.index] if self.index < len(self.plan.actions) else None


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
        now: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.doc = doc
        self.record = record  # journals the event, then applies it to `doc`
        self.workspace = workspace
        self.plan = plan
        self.reporter = reporter
        self.options = options or ApplyOptions()
        self.now = now
        self.sleep = sleep
        self.poller = BatchPoller(client, wall_clock=now)
        self.result = ApplyResult()
        self.stopping = False
        self.in_doubt: dict[str, tuple[_Chain, Intent]] = {}  # job type -> the POST in doubt
        self.progressed = False  # a job was sent or found since the last poll

    # --- the loop ------------------------------------------------------------------------

    def run(self) -> ApplyResult:
        started = time.monotonic()
        chains = [_Chain(p) for p in self.plan.projects]
        pending: deque[_Chain] = deque(chains)
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
                if self.in_doubt:
                    self._resolve_in_doubt()
                for chain in active:
                    if chain.state == "active" and chain.job is None:
                        self._advance(chain)
                if not self.options.wait:  # --no-wait: a chain is done once its job is sent
                    for chain in active:
                        if chain.job is not None:
                            chain.state = "submitted"
                            self.result.submitted_only.append(chain.address)
                active = [c for c in active if c.state in ("active", "waiting")]
                if not active and (self.stopping or not pending):
                    break
                in_flight = {c.job.job_id: c for c in active if c.job is not None}
                if not in_flight and not self.in_doubt:
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
                # Back off while jobs run long; poll at the base rate again once anything moved
                # or while a POST is in doubt (its job should show up in the history quickly).
                base, cap = self.options.poll_interval, self.options.max_poll_interval
                busy = finished or self.in_doubt or self.progressed
                interval = base if busy else min(cap, interval * 1.5)
                self.progressed = False
        self.result.not_started = [c.address for c in pending]
        self.result.elapsed = time.monotonic() - started
        return self.result

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
        while chain.job is None:
            action = chain.current()
            if action is None:
                chain.state = "done"
                return
            if action.kind is ActionKind.FORGET:
                self.record({"type": "project_forgotten", "address": chain.address})
                self.result.forgotten += 1
                self.reporter.done(chain.address, "forget", "forgotten (it stays in Descript)")
                chain.index += 1
                continue
            if action.kind is ActionKind.AWAIT:
                self._await_recorded(chain, action)
                return
            if action.kind in (ActionKind.BLOCKED, ActionKind.RESOLVE):
                raise RuntimeError(f"{chain.address}: {action.kind.value} actions are not applied")
            if self.stopping:
                chain.state = "stopped"
                return
            if action.job_type in self.in_doubt:
                return  # wait until the POST in doubt of this job type is found
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
        chain.action = action

    def _outgoing(self, chain: _Chain, action: Action) -> tuple[Intent, Callable[[], JobCreated]]:
        """The intent to journal and the POST to send for `action`."""
        desired = self.workspace.projects[chain.address]
        salt = self.doc.salt
        project = self.doc.projects.get(chain.address)
        project_id = project.project_id if project else None
        facets = digests.import_facets(salt, desired)
        if action.job_type == IMPORT_JOB:
            kind = "update" if action.kind is ActionKind.UPDATE else "create"
            imported = import_request(desired, action, project_id if kind == "update" else None)
            body, path = imported.body(), "jobs/import/project_media"
            send: Callable[[], JobCreated] = lambda: self.client.import_project_media(imported)  # noqa: E731
            step_digest = None
        else:
            step = find_step(desired, action.step_id)
            kind = "create" if action.kind in (ActionKind.CREATE, ActionKind.REPLACE) else "step"
            prompt = agent_request(desired, step, project_id if kind == "step" else None)
            body, path = prompt.body(), "jobs/agent"
            send = lambda: self.client.agent(prompt)  # noqa: E731
            step_digest = digests.step_digest(salt, desired, step)
        intent = Intent(
            intent_id=str(uuid.uuid4()),
            action=kind,
            step_id=action.step_id,
            fingerprint=fingerprint("POST", path, body),
            sent_at=self.now(),
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

    def _submit(self, chain: _Chain, action: Action) -> None:
        intent, send = self._outgoing(chain, action)
        self.record(
            {
                "type": "intent_opened",
                "address": chain.address,
                "intent": intent.model_dump(mode="json"),
            }
        )
        failpoint("after_intent")
        chain.action = action
        try:
            created = send()
        except OutcomeUnknown as exc:
            self.record(
                {
                    "type": "intent_unknown",
                    "address": chain.address,
                    "intent_id": intent.intent_id,
                    "reason": exc.reason,
                }
            )
            self.in_doubt[intent.job_type] = (chain, intent)
            chain.state = "waiting"
            self.reporter.note(f"{chain.address}: {exc}")
            return
        except PaymentRequired as exc:
            self._refused(chain, action, intent, exc)
            self.stopping = True
            self.result.stopped_reason = "out of credits (402): nothing new was sent after it"
            return
        except (ApiError, TransportFailure) as exc:
            self._refused(chain, action, intent, exc)
            return
        failpoint("after_post")
        self._submitted(chain, action, intent, created.job_id, created.model_dump())
        failpoint("after_job_recorded")

    def _refused(self, chain: _Chain, action: Action, intent: Intent, exc: Exception) -> None:
        # The server did nothing (an error reply, or no connection): the intent is closed.
        self.record(dropped(chain.address, intent.intent_id, f"refused: {exc}"))
        self._fail(chain, action, str(exc))

    def _submitted(
        self, chain: _Chain, action: Action, intent: Intent, job_id: str, reply: dict[str, Any]
    ) -> None:
        self.record(
            {
                "type": "job_submitted",
                "address": chain.address,
                "intent_id": intent.intent_id,
                "job_id": job_id,
                "project_id": reply.get("project_id"),
                "drive_id": reply.get("drive_id"),
                "project_url": reply.get("project_url"),
            }
        )
        self.result.jobs_issued += 1
        self.progressed = True
        chain.job = InFlight(job_id, intent.job_type, intent.sent_at)
        chain.state = "active"
        self.reporter.submitted(chain.address, action.label, job_id)

    def _resolve_in_doubt(self) -> None:
        oldest = min(i.sent_at for _, i in self.in_doubt.values())
        history = history_since(self.client, oldest - SKEW, self.now())
        for job_type, (chain, intent) in list(self.in_doubt.items()):
            known_projects = {p.project_id for p in self.doc.projects.values() if p.project_id}
            verdict = resolve_intent(
                intent,
                history,
                self.doc.known_job_ids(),
                known_projects,
                self.now(),
                self.options.grace,
            )
            assert chain.action is not None
            if verdict.verdict == "wait":
                continue
            del self.in_doubt[job_type]
            if verdict.verdict == "adopt" and verdict.job is not None:
                self.reporter.note(
                    f"{chain.address}: found the job in the history: {verdict.job.job_id}"
                )
                self._submitted(
                    chain, chain.action, intent, verdict.job.job_id, verdict.job.model_dump()
                )
            elif verdict.verdict == "reissue":
                self.record(dropped(chain.address, intent.intent_id, verdict.reason))
                self.reporter.note(f"{chain.address}: the job was never created; sending it again")
                chain.state = "active"
            else:
                self.record(
                    {
                        "type": "quarantined",
                        "address": chain.address,
                        "quarantine": {
                            "reason": verdict.reason,
                            "candidates": list(verdict.candidates),
                            "intent_id": intent.intent_id,
                        },
                    }
                )
                self._fail(chain, chain.action, f"quarantined: {verdict.reason}")

    # --- polling --------------------------------------------------------------------------

    def _poll(self, in_flight: dict[str, _Chain]) -> int:
        jobs = self.poller.refresh({job_id: c.job for job_id, c in in_flight.items() if c.job})
        failpoint("mid_poll")
        finished = 0
        for job_id, chain in in_flight.items():
            job = jobs.get(job_id)
            if job is None:
                continue
            if not job.finished:
                self.reporter.progress(
                    chain.address, chain.action.label if chain.action else "", job
                )
                continue
            finished += 1
            self.record(job_event(chain.address, job))
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
            failed = [n for n, m in job.import_result.media_status.items() if m.status != "success"]
            text = f"{len(job.import_result.media_status)} media"
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
