"""One watched workspace kept in step: on each new revision, plan; apply what the policy allows,
hold the rest; apply approved runs. One thread per workspace, woken by its schedule, a push
webhook or an approval.

Plan and apply are the library's (`plan_workspace`, `apply_workspace`), under the state's own
lock; an apply re-checks, when it holds the lock, that what it is about to send is what was
decided: the policy again for an automatic run, the very plan text a person approved for an
approved one (anything else supersedes the run and plans again).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from descript_iac.apply.reporting import CallbackReporter, Progress
from descript_iac.config.loader import read_state_setting
from descript_iac.controller.callbacks import Callbacks
from descript_iac.controller.logs import about
from descript_iac.controller.metrics import Metrics
from descript_iac.controller.policy import Decision, decide
from descript_iac.controller.runs import OPEN, Run, RunStore, now_iso
from descript_iac.controller.sources import Revision, Source
from descript_iac.errors import DescriptIacError
from descript_iac.plan.forecast import Forecast
from descript_iac.plan.model import Plan
from descript_iac.plan.render import render_text
from descript_iac.plan.samples import StepSample
from descript_iac.terminal_text import one_line

if TYPE_CHECKING:
    from descript_iac.config import Workspace
    from descript_iac.controller.replicas import Ownership
    from descript_iac.state.document import StateDocument
    from descript_iac.workspace import RunSettings

log = logging.getLogger("descript_iac.controller")
TAKEOVER_TRY = 1.0  # seconds between a replica's tries for a workspace another one owns


@dataclass
class WorkspaceStatus:
    """What the dashboard shows of a workspace between runs."""

    revision: str | None = None
    checked_at: str | None = None
    error: str | None = None
    root: Path | None = None  # the workspace directory at `revision`
    # Drift (a `plan --refresh`), read on each new revision and every `drift_interval` seconds:
    # one line per change made outside descript-iac, as the CLI renders it.
    drift: list[str] = field(default_factory=list)
    drift_at: str | None = None
    drift_error: str | None = None
    # From the state, read after each check: intents open (journaled, job id not yet known) and,
    # of them, in doubt (sent, outcome unknown: the drive gate holds until it is found).
    open_intents: int = 0
    in_doubt: int = 0


class Reconciler:
    def __init__(
        self,
        source: Source,
        book: RunStore,
        callbacks: Callbacks,
        metrics: Metrics,
        data_dir: Path,
        fetch_interval: float,
        poll_interval: float,
        ownership: Ownership | None = None,
        drift_interval: float = 300.0,
    ) -> None:
        self.source = source
        self.name = source.name
        self.book = book
        self.callbacks = callbacks
        self.metrics = metrics
        self.data_dir = data_dir
        self.fetch_interval = fetch_interval
        self.poll_interval = poll_interval
        self.drift_interval = drift_interval
        self._drift_read = float("-inf")  # monotonic time of the last drift read
        self.status = WorkspaceStatus()
        self.trigger = threading.Event()
        self.stopping = threading.Event()  # no new run or job starts once set
        self._replan = False
        self.ownership = ownership  # None: this is the only replica
        self._owned = False
        self._thread = threading.Thread(
            target=self._loop, name=f"reconcile-{self.name}", daemon=True
        )  # a daemon: past the grace period the process exits; the journal keeps the rest

    # --- the loop ------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float) -> None:
        self.stopping.set()
        self.trigger.set()
        self._thread.join(timeout)

    def wake(self) -> None:
        self.trigger.set()

    def _loop(self) -> None:
        while not self.stopping.is_set():
            if not self._own():
                self.trigger.wait(TAKEOVER_TRY)
                continue
            try:
                self.check()
            except Exception:  # one bad check must not end the controller
                log.exception("workspace %s: the check failed", self.name, extra=about(self.name))
            self.trigger.wait(self.fetch_interval)
            self.trigger.clear()

    def _own(self) -> bool:
        """Whether this replica reconciles the workspace now; on taking it (at start, or from a
        replica that died), a run left applying or planning is closed and the workspace planned
        again: the state's journal makes that apply resume, exactly once."""
        try:
            owned = self.ownership is None or self.ownership.claim(self.name)
        except DescriptIacError as exc:
            self.status.error = str(exc)
            return False
        if owned and not self._owned:
            self._owned = True
            self._took_over()
        return owned

    def _took_over(self) -> None:
        mine = [r for r in self.book.all() if r.workspace == self.name]
        if mine and mine[0].status == "interrupted":  # the newest: stopped by a shutdown
            self._replan = True
        for run in mine:
            if run.status in ("planning", "applying"):
                self._replan = True
                self._finish(
                    run.id,
                    "failed",
                    "the controller applying it stopped; the workspace is planned again and its "
                    "apply resumes from the state's journal",
                )
                log.info(
                    "workspace %s: took over; run %s closed",
                    self.name,
                    run.id,
                    extra=about(self.name, run.id),
                )

    def check(self) -> None:
        """Fetch; plan a new revision; apply approved runs."""
        try:
            revision = self.source.current()
        except DescriptIacError as exc:
            self.metrics.fetch_failed()
            self.status.error = str(exc)
            self.status.checked_at = now_iso()
            log.warning("workspace %s: %s", self.name, exc, extra=about(self.name))
            return
        self.status.revision, self.status.root = revision.id, revision.root
        self.status.checked_at, self.status.error = now_iso(), None
        try:
            self._act(revision)
        finally:
            self._count_intents(revision)

    def _act(self, revision: Revision) -> None:
        new = revision.id != self.book.last_revision(self.name) or self._replan
        if new or time.monotonic() - self._drift_read >= self.drift_interval:
            self._read_drift(revision)
        if new:
            self._replan = False
            self._supersede()
            if not self.stopping.is_set():
                self._plan_run(revision)
            return
        for run in reversed(self.book.all()):
            if run.workspace == self.name and run.status == "queued":
                if self.stopping.is_set():
                    return
                self._apply(run, revision, approved=True)

    def _read_drift(self, revision: Revision) -> None:
        """What changed in Descript outside descript-iac: the library's `plan --refresh` (it
        reads the job history and writes nothing). Its plan is not the run's: a run is planned,
        and re-checked when applied, from the state alone."""
        from descript_iac.plan import PlanOptions
        from descript_iac.workspace import plan_workspace

        self._drift_read = time.monotonic()
        try:
            planned = plan_workspace(self._settings(revision), PlanOptions(), refresh=True)
        except DescriptIacError as exc:
            self.status.drift_error = f"drift not read: {exc}"
            log.warning("workspace %s: drift not read: %s", self.name, exc, extra=about(self.name))
            return
        self.status.drift = [f"~ {d.address}: {d.detail}" for d in planned.plan.drift]
        self.status.drift_at, self.status.drift_error = now_iso(), None
        if self.status.drift:
            n = len(self.status.drift)
            log.info("workspace %s: %d drift change(s)", self.name, n, extra=about(self.name))

    def _count_intents(self, revision: Revision) -> None:
        from descript_iac.workspace import read_state

        try:
            doc = read_state(self._settings(revision))
        except DescriptIacError:
            return
        self.status.open_intents, self.status.in_doubt = intent_counts(doc)

    # --- runs ----------------------------------------------------------------------------

    def _supersede(self) -> None:
        for run in self.book.all():
            if run.workspace == self.name and run.status in ("held", "queued"):
                with self.book.edit(run.id) as r:
                    r.status = "superseded"
                    r.finished_at = now_iso()
                    r.message = "a newer revision was planned"

    def _plan_run(self, revision: Revision) -> None:
        from descript_iac.plan import PlanOptions
        from descript_iac.workspace import plan_workspace

        run = self.book.new(self.name, revision.id)
        try:
            planned = plan_workspace(self._settings(revision), PlanOptions())
            forecast = _forecast(planned.workspace, planned.plan, planned.step_samples())
            decision = decide(self.source.watched.policy, planned.plan, forecast)
        except DescriptIacError as exc:
            self._finish(run.id, "failed", f"the plan failed: {exc}")
            return
        with self.book.edit(run.id) as r:
            r.plan_text = render_text(planned.plan)
            r.summary = planned.plan.summary() if planned.plan.has_changes else "No changes."
            r.reasons = list(decision.reasons)
            r.drift = list(self.status.drift)
        if not planned.plan.has_changes:
            self._finish(run.id, "applied", "No changes.")
        elif not decision.auto:
            self._finish(run.id, "held", "waits for approval", final=False)
        else:
            self._apply(self.book.get(run.id) or run, revision, approved=False)

    def _apply(self, run: Run, revision: Revision, approved: bool) -> None:
        from descript_iac.apply import ApplyOptions
        from descript_iac.plan import PlanOptions
        from descript_iac.workspace import apply_workspace

        with self.book.edit(run.id) as r:
            r.status = "applying"
        wake = self.callbacks.listen(run.id)
        settings = self._settings(revision)
        options = ApplyOptions(
            poll_interval=self.poll_interval,
            # DESCRIPT_IAC_COMMIT_SPAN / _HISTORY_LAG, as the CLI's apply: without them a create
            # in doubt held every create for the defaults' 7 minutes whatever was set.
            timing=settings.timing,
            callback_url=self.callbacks.url_for(run.id, run.callback_secret),
            wake=wake,
            stop=self.stopping,
        )
        confirm = self._confirm_approved(run) if approved else self._confirm_policy(revision)
        try:
            outcome = apply_workspace(
                settings,
                PlanOptions(),
                options,
                CallbackReporter(self._progress(run.id)),
                confirm=confirm,
            )
        except _Changed as exc:
            self._replan = True
            self._finish(run.id, "superseded", str(exc))
            self.trigger.set()
            return
        except DescriptIacError as exc:
            self._finish(run.id, "failed", str(exc))
            return
        finally:
            self.callbacks.forget(run.id)
        result = outcome.result
        if result is None:
            self._finish(run.id, "applied", "No changes.")
            return
        self.metrics.add_credits(result.ai_credits)
        with self.book.edit(run.id) as r:
            r.jobs, r.credits = result.jobs_issued, result.ai_credits
            r.failures = len(result.failures)
        lines = [f"stopped: {result.stopped_reason}"] if result.stopped_reason else []
        # The API's words (a job's error message) are untrusted: one line each, shown not obeyed,
        # so a newline in them cannot forge a line of the outcome (the pages escape the rest).
        lines += [f"{f.address}: {f.label}: {one_line(f.message)}" for f in result.failures]
        lines += [one_line(line) for line in result.attention]
        gate = result.gate_note()  # what creates in doubt cost this run
        if gate is not None:
            lines.append(gate)
        summary = f"{result.jobs_issued} job(s) issued, {result.ai_credits:g} AI credits"
        message = "\n".join([summary, *lines])
        if result.stopped_reason == "interrupted" and self.stopping.is_set():
            status = "interrupted"  # planned again at the next start
        else:
            status = "applied" if outcome.ok else "failed"
        self._finish(run.id, status, message)

    def _confirm_policy(self, revision: Revision) -> Callable[[Plan], bool]:
        def confirm(plan: Plan) -> bool:
            decision = _decide_again(self, revision, plan)
            if not decision.auto:
                raise _Changed(
                    "the plan changed before it was applied and now needs approval: "
                    + "; ".join(decision.reasons)
                )
            return True

        return confirm

    def _confirm_approved(self, run: Run) -> Callable[[Plan], bool]:
        def confirm(plan: Plan) -> bool:
            if render_text(plan) != run.plan_text:
                raise _Changed("the plan changed since it was approved; planned again")
            return True

        return confirm

    def _progress(self, run_id: str) -> Callable[[Progress], None]:
        def on_progress(event: Progress) -> None:
            if event.kind == "submitted":
                self.metrics.job("submitted")
            elif event.kind == "stopped":
                self.metrics.job("succeeded" if event.ok else "failed")
            else:
                return
            with self.book.edit(run_id) as r:
                r.message = f"{event.address}: {event.label}: {event.kind}"

        return on_progress

    def _finish(self, run_id: str, status: str, message: str, final: bool = True) -> None:
        with self.book.edit(run_id) as r:
            r.status = status  # type: ignore[assignment]
            r.message = message
            if final:
                r.finished_at = now_iso()
        log.info(
            "workspace %s: run %s %s", self.name, run_id, status, extra=about(self.name, run_id)
        )

    def projects(self) -> list[dict[str, object]]:
        """What the state records of each project (as `show` reads it): its Descript link, its
        steps and its spend. Prompts and agent replies are left out of pages."""
        from descript_iac.workspace import show_state

        if self.status.root is None or self.status.revision is None:
            return []
        view = show_state(self._settings(Revision(self.status.revision, self.status.root)))
        return [
            {
                "address": p.address,
                "name": p.name,
                "project_url": p.project_url,
                "import_status": p.import_status,
                "steps": [
                    {"id": s.id, "status": s.status, "ai_credits": s.ai_credits_used}
                    for s in p.steps
                ],
                "media_seconds": p.media_seconds,
                "ai_credits": p.ai_credits,
                "orphans": p.orphans,
            }
            for p in view.projects
        ]

    def spend(self) -> list[dict[str, object]]:
        """The state's recorded spend per day (UTC), oldest first: what `descript-iac costs`
        reports by day."""
        from descript_iac.state.spend import spend_report
        from descript_iac.workspace import read_state

        if self.status.root is None or self.status.revision is None:
            return []
        doc = read_state(self._settings(Revision(self.status.revision, self.status.root)))
        days = spend_report(doc).days
        return [
            {
                "day": day,
                "ai_credits": days[day].ai_credits,
                "media_seconds": days[day].media_seconds,
                "jobs": days[day].jobs,
                "unknown_jobs": days[day].unknown,  # their spend is unknown: not in the sums
            }
            for day in sorted(days)
        ]

    def open_runs(self) -> int:
        return sum(1 for r in self.book.all() if r.workspace == self.name and r.status in OPEN)

    def _settings(self, revision: Revision) -> RunSettings:
        from descript_iac.workspace import RunSettings

        # The workspace's own `state:` block if it has one (PostgreSQL: shared by replicas);
        # else a state file of the controller's.
        declared = read_state_setting(revision.root)
        state = None if declared is not None else self.data_dir / "state" / f"{self.name}.json"
        return RunSettings.for_workspace(revision.root, state_path=state, lock_timeout=30.0)


def intent_counts(doc: StateDocument) -> tuple[int, int]:
    """(open intents, of which in doubt) the state records."""
    intents = [i for p in doc.projects.values() for i in p.intents]
    return len(intents), sum(1 for i in intents if i.outcome == "unknown")


class _Changed(DescriptIacError):
    """What is about to be sent is not what was decided: nothing was sent."""


def _decide_again(reconciler: Reconciler, revision: Revision, plan: Plan) -> Decision:
    from descript_iac.config import load_workspace
    from descript_iac.plan.samples import step_samples
    from descript_iac.workspace import read_state

    settings = reconciler._settings(revision)
    workspace = load_workspace(revision.root, cache_dir=settings.workspace_cache)
    forecast = _forecast(workspace, plan, step_samples(read_state(settings)))
    return decide(reconciler.source.watched.policy, plan, forecast)


def _forecast(workspace: Workspace, plan: Plan, samples: Sequence[StepSample]) -> Forecast:
    """The plan's forecast without probing media (the credits of agent steps do not depend on
    media durations; the controller's policy judges credits only)."""
    from descript_iac.api.media_probe import Probe
    from descript_iac.workspace.forecasting import forecast_plan

    return forecast_plan(workspace, plan, samples, prober=lambda url: Probe(None, "not probed"))
