"""The diff: pure functions from (desired state, recorded state, options) to a `Plan`.

No I/O and no clock. The rules of the domain live here:
- Descript cannot change a project, so a change to import-time inputs is a replace (allowed by
  --allow-replace or lifecycle.on_change: replace), or an in-place update when the API can
  import into an existing project and only additions were made; otherwise it is blocked.
- Applied steps are an append-only log: editing, reordering, deleting or inserting before an
  applied step is blocked. New steps after the applied ones run. A failed step is re-run.
- A failed or partial import taints the project: it is replaced.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from descript_iac.collector import paused
from descript_iac.config.desired import DesiredProject, Move
from descript_iac.config.model import AgentStep
from descript_iac.errors import PlanError
from descript_iac.plan import digests
from descript_iac.plan.changes import FacetChanges, facet_changes, sends, value_changes
from descript_iac.plan.features import check_features
from descript_iac.plan.model import Action, ActionKind, Change, Plan, PlanOptions, ProjectPlan
from descript_iac.plan.moves import apply_moves, move_action
from descript_iac.plan.publishing import awaiting_publishes, publish_actions
from descript_iac.plan.shown import (
    create_settings,
    shown,
    shown_facets,
    step_model,
    step_prompt,
    step_settings,
)
from descript_iac.state.document import (
    ProjectState,
    ShownFacets,
    StateDocument,
    StepRecord,
)
from descript_iac.terminal_text import one_line
from descript_iac.timing import FINISHED_STATES

IMPORT = "import/project_media"
AGENT = "agent"
UNDO = "agent edits cannot be undone: add a new step, or replace the project (--replace {a})"


def quarantine_advice(address: str, reason: str, candidates: list[str] | tuple[str, ...]) -> str:
    """What a quarantined project needs from a person, in one sentence."""
    listed = ", ".join(candidates) or "none"
    return (
        f"quarantined: {reason} (candidate jobs: {listed}). Check them in Descript, then resolve "
        f"with `descript-iac state adopt {address} JOB_ID` or `descript-iac state drop-intent "
        f"{address}`"
    )


class _ProjectDiff:
    """The actions for one address."""

    def __init__(
        self,
        address: str,
        desired: DesiredProject | None,
        state: ProjectState | None,
        salt: str,
        options: PlanOptions,
        want: digests.Wanted | None,
    ) -> None:
        self.address = address
        self.d = desired
        self.s = state
        self.salt = salt
        self.opts = options
        self.want = want  # the desired digests, computed once per plan

    def shown_want(self) -> ShownFacets:
        """The desired values a reviewer sees (only computed for actions that show them)."""
        assert self.d is not None
        return shown_facets(self.d)

    def action(self, kind: ActionKind, reason: str, **kw: Any) -> Action:
        return Action(address=self.address, kind=kind, reason=reason, **kw)

    def run(self) -> list[Action]:
        s, d = self.s, self.d
        if s is not None and s.quarantine is not None:
            advice = quarantine_advice(self.address, s.quarantine.reason, s.quarantine.candidates)
            return [self.action(ActionKind.BLOCKED, advice)]
        if s is not None and s.intents:
            intent = s.intents[0]
            what = f"step {intent.step_id}" if intent.action == "step" else intent.action
            if intent.outcome == "sending":
                happened = f"an earlier apply stopped while sending the {what} job"
            else:
                happened = (
                    f"the reply to the {what} job was lost ({one_line(intent.reason or 'unknown')})"
                )
            return [
                self.action(
                    ActionKind.RESOLVE,
                    f"{happened}; apply looks for it in the job history before sending "
                    "anything, then plans the rest",
                    step_id=intent.step_id,
                    job_type=intent.job_type,
                )
            ]
        if d is None:
            return self.forget()
        if s is None or (s.project_id is None and s.import_ is None and not s.steps):
            return self.create(ActionKind.CREATE, "new project")
        return self.existing(s, d)

    # --- absent from config ------------------------------------------------------------

    def forget(self) -> list[Action]:
        assert self.s is not None
        pid = self.s.project_id or "no project"
        if self.opts.allow_forget:
            return [
                self.action(
                    ActionKind.FORGET,
                    f"no longer in the config; project {pid} stays in Descript (the API cannot "
                    "delete it); its history moves to the state's 'forgotten'",
                )
            ]
        return [
            self.action(
                ActionKind.BLOCKED,
                f"project {pid} is in the state but no longer in the config. Put it back; if "
                "it was renamed, add a moved block ({from: OLD, to: NEW}) or run `descript-iac "
                "state mv OLD NEW`; or forget it with --allow-forget (it stays in Descript: the "
                "API cannot delete it)",
            )
        ]

    # --- new project -------------------------------------------------------------------

    def create(
        self, kind: ActionKind, reason: str, changes: tuple[Change, ...] = ()
    ) -> list[Action]:
        d = self.d
        assert d is not None
        assert self.want is not None
        after = self.want.facets_digest
        steps = list(d.spec.steps)
        actions: list[Action] = []
        if d.has_media:
            media = tuple(d.spec.media)
            comps = tuple(c.name for c in d.spec.compositions)
            actions.append(
                self.action(
                    kind,
                    f"{reason}: one import job with {len(media)} media and {len(comps)} "
                    "composition(s)",
                    job_type=IMPORT,
                    after=after,
                    media=media,
                    compositions=comps,
                    sends=sends(self.shown_want(), media, comps),
                    settings=create_settings(d, imports=True),
                    changes=changes,
                )
            )
        else:
            first = steps.pop(0)
            actions.append(
                self.action(
                    kind,
                    f"{reason}: prompt-only, step {first.id} creates the project",
                    step_id=first.id,
                    job_type=AGENT,
                    after=self.want.steps[first.id],
                    prompt=shown(step_prompt(d, first)),
                    model=step_model(d, first),
                    settings=create_settings(d, imports=False) + step_settings(first),
                    changes=changes,
                )
            )
        actions += [self.run_step(step, "runs on the new project") for step in steps]
        return actions + publish_actions(self.address, d, None, actions)

    def run_step(
        self,
        step: AgentStep,
        reason: str,
        before: str | None = None,
        changes: tuple[Change, ...] = (),
    ) -> Action:
        assert self.d is not None and self.want is not None
        return self.action(
            ActionKind.RUN,
            reason,
            step_id=step.id,
            job_type=AGENT,
            before=before,
            after=self.want.steps[step.id],
            prompt=shown(step_prompt(self.d, step)),
            model=step_model(self.d, step),
            settings=step_settings(step),
            changes=changes,
        )

    def step_changes(self, record: StepRecord, step: AgentStep) -> tuple[Change, ...]:
        """Old -> new of an applied step's prompt and model (the old side from format 3)."""
        assert self.d is not None
        known = record.prompt is not None or record.origin != "apply" or record.model is not None
        new_prompt, new_model = shown(step_prompt(self.d, step)), step_model(self.d, step)
        out = []
        if record.prompt != new_prompt or not known:
            old = shown(record.prompt) if known else None
            out.append(Change(what="prompt", old=old, new=new_prompt, old_known=known))
        if known and record.model != new_model:
            out.append(Change(what="model", old=record.model, new=new_model))
        return tuple(out)

    # --- existing project --------------------------------------------------------------

    def existing(self, s: ProjectState, d: DesiredProject) -> list[Action]:
        assert self.want is not None
        want = self.want.facets
        after = self.want.facets_digest
        awaiting = self.awaiting(s)
        if self.address in self.opts.replace:
            return awaiting + self.replace("replacement requested with --replace", s)
        if s.tainted and not awaiting:
            return self.replace(f"tainted, {one_line(s.tainted)}", s)
        changes = facet_changes(s.facets, want) if s.facets else FacetChanges()
        head: list[Action] = []
        if changes.any:
            assert s.facets is not None
            before = digests.facets_digest(self.salt, s.facets)  # only shown when changed
            values = tuple(value_changes(s.facets, self.shown_want(), changes))
            allowed = self.opts.allow_replace or d.on_change == "replace"
            if self.opts.import_into_existing and changes.only_additions:
                head.append(
                    self.action(
                        ActionKind.UPDATE,
                        f"in place (the API can import into an existing project): "
                        f"{changes.describe()}",
                        job_type=IMPORT,
                        before=before,
                        after=after,
                        media=changes.media_added,
                        compositions=changes.compositions_added,
                        sends=sends(
                            self.shown_want(), changes.media_added, changes.compositions_added
                        ),
                        changes=values,
                    )
                )
            elif allowed:
                return awaiting + self.replace(
                    f"import-time inputs changed: {changes.describe()}", s, values
                )
            else:
                head.append(
                    self.action(
                        ActionKind.BLOCKED,
                        f"import-time inputs changed ({changes.describe()}) and Descript cannot "
                        "change an existing project. To make a new project with every step "
                        "re-run, use --allow-replace or set lifecycle.on_change: replace; the "
                        f"old project {s.project_id} stays in Descript, recorded as orphaned",
                        before=before,
                        after=after,
                        changes=values,
                    )
                )
        planned = head + self.steps(s, d)
        return awaiting + planned + publish_actions(self.address, d, s, planned)

    def awaiting(self, s: ProjectState) -> list[Action]:
        out = []
        if s.import_ is not None and s.import_.job_state not in FINISHED_STATES:
            out.append(
                self.action(
                    ActionKind.AWAIT,
                    f"import job {s.import_.job_id} from an earlier apply is "
                    f"{s.import_.job_state}; apply waits for it",
                    job_type=IMPORT,
                )
            )
        for step in s.steps:
            if step.job_state not in FINISHED_STATES:
                out.append(
                    self.action(
                        ActionKind.AWAIT,
                        f"job {step.job_id} from an earlier apply is {step.job_state}; apply "
                        "waits for it",
                        step_id=step.id,
                        job_type=AGENT,
                    )
                )
        return out + awaiting_publishes(self.address, s)

    def replace(
        self, reason: str, s: ProjectState, changes: tuple[Change, ...] = ()
    ) -> list[Action]:
        old = s.project_id or "(none)"
        return self.create(
            ActionKind.REPLACE,
            f"{reason}. A new project is made and every step re-run; the old project {old} "
            "stays in Descript, recorded as orphaned",
            changes,
        )

    def steps(self, s: ProjectState, d: DesiredProject) -> list[Action]:
        assert self.want is not None
        desired = list(d.spec.steps)
        applied = list(s.steps)
        # A prompt-only project's first step made the project: it is part of the log too.
        desired_ids = [x.id for x in desired]
        applied_ids = [x.id for x in applied]
        actions: list[Action] = []
        undo = UNDO.format(a=self.address)
        for k, record in enumerate(applied):
            if k >= len(desired):
                actions.append(
                    self.action(
                        ActionKind.BLOCKED,
                        f"step {record.id} was applied (job {record.job_id or 'not recorded'}) "
                        f"and is no longer in the config; {undo}",
                        step_id=record.id,
                    )
                )
                continue
            want = desired[k]
            if want.id != record.id:
                if want.id not in applied_ids:
                    reason = (
                        f"step {want.id} is inserted before applied step {record.id}; new steps "
                        f"go after the applied ones ({undo})"
                    )
                else:
                    where = desired_ids.index(record.id) + 1 if record.id in desired_ids else None
                    moved = f"is now step {where}" if where else "was removed"
                    reason = (
                        f"steps were reordered: {record.id} was applied as step {k + 1} and "
                        f"{moved}; {undo}"
                    )
                actions.append(self.action(ActionKind.BLOCKED, reason, step_id=want.id))
                continue
            digest = self.want.steps[want.id]
            if record.status == "error" or record.job_state == "cancelled":
                edited = " with its edited prompt" if digest != record.digest else ""
                failed = one_line(record.error_message or "no message")  # the server's words
                reason = f"re-run{edited}: the last attempt failed ({failed})"
                changed = self.step_changes(record, want) if edited else ()
                actions.append(self.run_step(want, reason, before=record.digest, changes=changed))
            elif digest != record.digest:
                actions.append(
                    self.action(
                        ActionKind.BLOCKED,
                        f"the prompt or model of applied step {want.id} changed; {undo}",
                        step_id=want.id,
                        before=record.digest,
                        after=digest,
                        changes=self.step_changes(record, want),
                    )
                )
        # Applied steps that moved were reported as blocked above.
        actions += [
            self.run_step(want, "new step")
            for want in desired[len(applied) :]
            if want.id not in applied_ids
        ]
        return actions


def plan_project(
    address: str, desired: DesiredProject | None, state: StateDocument, options: PlanOptions
) -> ProjectPlan:
    """The actions for one address (apply re-plans a project once an intent was resolved)."""
    want = digests.wanted(state.salt, desired) if desired else None
    actions = _ProjectDiff(address, desired, state.projects.get(address), state.salt, options, want)
    checked, _ = check_features(actions.run(), desired, options)
    where = desired.where if desired else "state only"
    return ProjectPlan(address=address, where=where, actions=tuple(checked))


def compute_plan(
    desired: dict[str, DesiredProject],
    recorded: StateDocument,
    options: PlanOptions,
    moves: Sequence[Move] = (),
) -> Plan:
    """The plan that brings `recorded` to `desired` (with the config's `moves` applied first).
    Pure: no I/O, no clock."""
    return plan_and_digests(desired, recorded, options, moves)[0]


def plan_and_digests(
    desired: dict[str, DesiredProject],
    recorded: StateDocument,
    options: PlanOptions,
    moves: Sequence[Move] = (),
) -> tuple[Plan, dict[str, str]]:
    """`compute_plan`, and each file's part of the config digest (an incremental plan keeps
    them)."""
    with paused():  # tens of thousands of digests and actions, no cycles
        return _compute(desired, recorded, options, moves)


def _compute(
    desired: dict[str, DesiredProject],
    recorded: StateDocument,
    options: PlanOptions,
    moves: Sequence[Move],
) -> tuple[Plan, dict[str, str]]:
    state, moved = apply_moves(recorded, moves)
    addresses = sorted(set(desired) | set(state.projects))
    if options.targets:
        unknown = sorted(set(options.targets) - set(addresses))
        if unknown:
            known = ", ".join(addresses) or "none"
            raise PlanError(f"--target {', '.join(unknown)}: no such project (known: {known})")
    unknown_replace = sorted(set(options.replace) - set(desired))
    if unknown_replace:
        raise PlanError(f"--replace {', '.join(unknown_replace)}: no such project in the config")
    wanted = {a: digests.wanted(state.salt, p) for a, p in desired.items()}
    projects: list[ProjectPlan] = []
    up_to_date: list[str] = []
    untargeted: list[str] = []
    needs: set[str] = set()
    for address in addresses:
        if options.targets and address not in options.targets:
            untargeted.append(address)
            continue
        d = desired.get(address)
        s = state.projects.get(address)
        want = wanted.get(address)
        actions = _ProjectDiff(address, d, s, state.salt, options, want).run()
        if address in moved:
            actions = [move_action(moved[address], d), *actions]
        actions, needed = check_features(actions, d, options)
        needs |= needed
        if actions:
            where = d.where if d else "state only"
            projects.append(ProjectPlan(address=address, where=where, actions=tuple(actions)))
        else:
            up_to_date.append(address)
    files = digests.file_digests(desired, digests.config_entries(desired, wanted))
    plan = Plan(
        lineage=state.lineage,
        serial=state.serial,
        config_digest=digests.digest_of_files(state.salt, files.values()),
        options=options,
        projects=tuple(projects),
        up_to_date=tuple(up_to_date),
        untargeted=tuple(untargeted),
        needs=tuple(sorted(needs)),
    )
    return plan, files
