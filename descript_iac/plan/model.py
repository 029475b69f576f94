"""A plan: a closed set of actions per project, and the prior state it was computed from.

As in Terraform, each action has a symbol; as in SQLMesh, the plan is a frozen record whose
derived values are cached properties. The records are msgspec Structs, not pydantic models:
the plan makes them itself (nothing outside is validated into them but a saved plan, which
`msgspec.convert` checks), and every plan would pay for building ten models when it starts.
A change is `msgspec.structs.replace`; tuples stay tuples (give tuples, not lists).
"""

from enum import Enum
from functools import cached_property
from typing import Literal

import msgspec

PLAN_FORMAT_VERSION = 1


class ActionKind(str, Enum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    RUN = "run"
    FORGET = "forget"
    BLOCKED = "blocked"
    AWAIT = "await"
    RESOLVE = "resolve"
    MOVE = "move"
    PUBLISH = "publish"

    @property
    def symbol(self) -> str:
        return SYMBOLS[self]


SYMBOLS = {
    ActionKind.CREATE: "+",
    ActionKind.UPDATE: "~",
    ActionKind.REPLACE: "-/+",
    ActionKind.RUN: ">",
    ActionKind.FORGET: "-",
    ActionKind.BLOCKED: "!",
    ActionKind.AWAIT: "*",
    ActionKind.RESOLVE: "?",
    ActionKind.MOVE: "=>",
    ActionKind.PUBLISH: "^",
}
# Actions that send a job-creating POST.
ISSUES_JOB = frozenset(
    {ActionKind.CREATE, ActionKind.UPDATE, ActionKind.REPLACE, ActionKind.RUN, ActionKind.PUBLISH}
)
PUBLISH_JOB = "publish"


class _Frozen(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class Sent(_Frozen, frozen=True, kw_only=True):
    """One media item or composition an import sends, as a reviewer sees it."""

    kind: Literal["media", "composition"]
    name: str
    detail: str  # a URL without its query string, tracks, or clips; *** for a secret


class Setting(_Frozen, frozen=True, kw_only=True):
    """A value a job sends beyond media and compositions, as a reviewer sees it: the project's
    name, team access, folder, callback URL (without its query string), an export, the
    composition a step works on, a publish setting. Secrets are masked as ***."""

    what: str  # "name", "team_access", "folder", "callback_url", "export", "composition", ...
    value: str


class Change(_Frozen, frozen=True, kw_only=True):
    """One changed value, old -> new (None: absent). Secrets are masked as ***."""

    what: str  # "name", "team_access", "media NAME", "composition NAME", "prompt", "model"
    old: str | None = None
    new: str | None = None
    old_known: bool = True  # False: the state predates recording values (format < 3)


class Action(_Frozen, frozen=True, kw_only=True):
    address: str
    kind: ActionKind
    reason: str
    step_id: str | None = None
    job_type: str | None = None  # the job this action sends, if any
    before: str | None = None  # digest of what the state has
    after: str | None = None  # digest of what the config wants
    media: tuple[str, ...] = ()  # media names the import will carry
    compositions: tuple[str, ...] = ()
    prompt: str | None = None  # the prompt a step sends (*** for a secret)
    model: str | None = None
    sends: tuple[Sent, ...] = ()  # what an import sends
    settings: tuple[Setting, ...] = ()  # what else the job sends or sets up
    changes: tuple[Change, ...] = ()  # old -> new of what changed
    moved_from: str | None = None  # a move: the address the project is recorded under

    @property
    def symbol(self) -> str:
        return self.kind.symbol

    @property
    def issues_job(self) -> bool:
        return self.kind in ISSUES_JOB

    @property
    def label(self) -> str:
        if self.job_type == PUBLISH_JOB and self.compositions:
            return f"publish {self.compositions[0]}"
        if self.step_id and self.kind in (ActionKind.RUN, ActionKind.AWAIT, ActionKind.BLOCKED):
            return f"step {self.step_id}"
        if self.step_id:  # a prompt-only project's first step creates (or replaces) it
            return f"{self.kind.value} (step {self.step_id})"
        if self.moved_from:
            return f"move from {self.moved_from}"
        return self.kind.value


class ProjectPlan(_Frozen, frozen=True, kw_only=True):
    address: str
    where: str  # file:line of the project, or "state only"
    actions: tuple[Action, ...]

    @property
    def headline(self) -> ActionKind:
        kinds = [a.kind for a in self.actions]
        for kind in (
            ActionKind.BLOCKED,
            ActionKind.REPLACE,
            ActionKind.CREATE,
            ActionKind.FORGET,
            ActionKind.UPDATE,
            ActionKind.RESOLVE,
            ActionKind.AWAIT,
            ActionKind.MOVE,
            ActionKind.RUN,
            ActionKind.PUBLISH,
        ):
            if kind in kinds:
                return kind
        return ActionKind.RUN


class PlanOptions(_Frozen, frozen=True, kw_only=True):
    allow_replace: bool = False
    allow_forget: bool = False
    targets: tuple[str, ...] = ()
    replace: tuple[str, ...] = ()
    import_into_existing: bool = False
    # What the API offers (api.capabilities.Feature values) and its level, once detected; None:
    # not known yet (a plan without --refresh makes no API call), apply checks before sending.
    api_features: tuple[str, ...] | None = None
    api_level: str | None = None


DriftKind = Literal["job", "renamed", "deleted", "media_removed", "composition_removed"]


class Drift(_Frozen, frozen=True, kw_only=True):
    """A difference between Descript and the state that descript-iac did not make (found by
    `--refresh`): a job run outside it on a managed project, or a project changed outside."""

    address: str
    kind: DriftKind
    detail: str
    key: str  # what accepting it records (`apply --refresh`)
    job_id: str | None = None


class ExistingProject(_Frozen, frozen=True, kw_only=True):
    """A project the plan would create that the drive shows may exist already (evidence before
    any create, workspace/existing.py): apply never creates it; `way_on` says what to run."""

    address: str
    verdict: Literal["exists", "ambiguous", "unproven"]
    detail: str  # what the drive shows: the project, its jobs, the candidates
    project_ids: tuple[str, ...] = ()
    way_on: str = ""


class Plan(_Frozen, frozen=True, kw_only=True, dict=True):  # (dict: its cached properties)
    format_version: int = PLAN_FORMAT_VERSION
    lineage: str
    serial: int
    config_digest: str
    options: PlanOptions
    projects: tuple[ProjectPlan, ...]
    up_to_date: tuple[str, ...] = ()
    untargeted: tuple[str, ...] = ()
    drift: tuple[Drift, ...] = ()  # found by --refresh; not part of what apply sends
    # Creates the drive shows may exist already (found by --refresh): apply creates none.
    existing: tuple[ExistingProject, ...] = ()
    # API features the planned jobs need beyond the seed-level API (checked when known).
    needs: tuple[str, ...] = ()

    @cached_property
    def actions(self) -> tuple[Action, ...]:
        return tuple(a for p in self.projects for a in p.actions)

    @cached_property
    def blocked(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.kind is ActionKind.BLOCKED)

    @cached_property
    def counts(self) -> dict[str, int]:
        counts = {kind.value: 0 for kind in ActionKind}
        for action in self.actions:
            counts[action.kind.value] += 1
        return counts

    @cached_property
    def estimated_jobs(self) -> int:
        return sum(1 for a in self.actions if a.issues_job)

    @property
    def has_changes(self) -> bool:
        return bool(self.actions)

    def summary(self) -> str:
        c = self.counts
        steps = c["run"] + sum(
            1
            for a in self.actions
            if a.step_id and a.kind in (ActionKind.CREATE, ActionKind.REPLACE)
        )
        creates = f"{c['create']} {'project' if c['create'] == 1 else 'projects'} to create"
        if self.existing:
            creates += (
                f" ({len(self.existing)} of them may already exist in Descript and will not be "
                "created)"
            )
        parts = [
            creates,
            f"{steps} {'step' if steps == 1 else 'steps'} to run",
            f"{c['replace']} to replace",
        ]
        if c["update"]:
            parts.append(f"{c['update']} to update in place")
        if c["publish"]:
            parts.append(f"{c['publish']} to publish")
        parts.append(f"{c['forget']} to forget")
        if c["move"]:
            parts.append(f"{c['move']} to move")
        text = "Plan: " + ", ".join(parts) + "."
        if c["await"] or c["resolve"]:
            text += f" {c['await'] + c['resolve']} earlier job(s) to pick up first."
        if c["blocked"]:
            text += f" {c['blocked']} blocked."
        return text
