"""Saved plans (`plan --out`): what a reviewer approved, refused once the state moved on."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from descript_iac.errors import PlanError
from descript_iac.plan import Plan
from descript_iac.plan.model import ActionKind
from descript_iac.redact import scrub
from descript_iac.state.atomic import write_atomically
from descript_iac.state.document import StateDocument
from descript_iac.state.store import StateStore

if TYPE_CHECKING:  # (the engine and httpx: a plain plan loads no network stack)
    from descript_iac.apply.reconcile import Reconciled

PLAN_FILE_KIND = "descript-iac-plan"
AGAIN = "run `descript-iac plan --out FILE` again"
SEAL = "seal"


class NewState(msgspec.Struct, frozen=True, kw_only=True):
    lineage: str
    salt: str


class SavedPlan(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A plan saved with `plan --out`; `apply FILE` refuses it once the state moved on."""

    kind: str = PLAN_FILE_KIND
    workspace: str
    state: str
    new_state: NewState | None = None
    plan: Plan


def save_plan(plan: Plan, doc: StateDocument, root: Path, store: StateStore, path: Path) -> None:
    """Save `plan`, made against `doc` (only its lineage and salt are read, for a new state)."""
    new = None if store.exists() else NewState(lineage=doc.lineage, salt=doc.salt)
    saved = SavedPlan(
        workspace=str(root), state=_portable(store.location()), new_state=new, plan=plan
    )
    # Scrubbed like every other file descript-iac writes (an action's reason may quote a
    # server's message); written atomically, so a full disk cannot leave half a plan.
    data = scrub(msgspec.json.decode(msgspec.json.encode(saved)))
    data[SEAL] = _seal(data)
    write_atomically(path, json.dumps(data, indent=2) + "\n", what="the plan")


def _portable(location: str) -> str:
    """A local state inside the working directory, relative to it: a plan made in one checkout
    (a pull request's CI job) is applied in another (the merge's), where the same relative path
    is the same state."""
    if not is_local(location) or not os.path.isabs(location):
        return location
    relative = os.path.relpath(location)
    return location if relative.startswith("..") else relative


def is_local(location: str) -> bool:
    """Whether a saved plan's state is a local file (a database is found through the workspace
    again: its location names no secret, so it cannot be used to connect)."""
    return not location.startswith("postgresql state ")


def _seal(data: dict[str, object]) -> str:
    """A digest of everything the plan file says, over a canonical encoding (sorted keys, no
    spacing), so that any edit to a prompt, a URL or the state path changes it."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def load_saved_plan(path: Path) -> SavedPlan:
    """The saved plan at `path`, refused unless its seal matches its content: what `show` and
    `apply` read is exactly what `plan --out` wrote and a reviewer approved."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise PlanError(
            f"{path}: not a descript-iac plan file ({str(exc).splitlines()[0]})"
        ) from None
    if not isinstance(data, dict) or data.get("kind") != PLAN_FILE_KIND:
        raise PlanError(f"{path}: not a descript-iac plan file")
    seal = data.pop(SEAL, None)
    if seal != _seal(data):
        raise PlanError(
            f"{path}: the plan file was edited after `plan --out` wrote it (its seal does not "
            f"match its content); nothing was read or sent; {AGAIN}"
        )
    try:
        saved = msgspec.convert(data, SavedPlan)
    except msgspec.ValidationError as exc:
        raise PlanError(
            f"{path}: not a descript-iac plan file ({str(exc).splitlines()[0]})"
        ) from None
    if saved.kind != PLAN_FILE_KIND:
        raise PlanError(f"{path}: not a descript-iac plan file")
    return saved


def check_fresh(saved: SavedPlan, doc: StateDocument, store: StateStore) -> None:
    """Refuse a saved plan made for another state, or for an older serial of this one."""
    if not store.exists():
        if saved.new_state is None:
            raise PlanError(f"the state {store.location()} the plan was made for is gone; {AGAIN}")
        return
    lineage = saved.new_state.lineage if saved.new_state else saved.plan.lineage
    if doc.lineage != lineage:
        raise PlanError(
            f"the saved plan was made for another state (lineage {lineage}, this state is "
            f"{doc.lineage}); {AGAIN}"
        )
    if doc.serial != saved.plan.serial or saved.new_state is not None:
        raise PlanError(
            f"the saved plan is stale: it was made at state serial {saved.plan.serial} and the "
            f"state is now at serial {doc.serial}; {AGAIN}"
        )


def _job_actions(plan: Plan) -> list[tuple[str, str, str | None]]:
    skip = (ActionKind.AWAIT, ActionKind.RESOLVE)
    return [(a.address, a.kind.value, a.step_id) for a in plan.actions if a.kind not in skip]


def check_same(saved: SavedPlan, plan: Plan) -> None:
    """Refuse a saved plan whose config changed, or whose jobs are no longer the ones to run."""
    if plan.config_digest != saved.plan.config_digest:
        raise PlanError(f"the configuration changed since the plan was saved; {AGAIN}")
    if _job_actions(plan) != _job_actions(saved.plan):
        raise PlanError(
            f"after picking up earlier jobs the plan differs from the saved one; {AGAIN}"
        )


def only_reviewed(found: Reconciled, reviewed: set[str]) -> list[str]:
    """Keep of `found`'s drift, and of what accepting it records, only what a reviewed plan
    showed (its keys, `reviewed`); the notes to print for the rest, which the next
    `plan --refresh` shows for review."""
    later = [d for d in found.drift if d.key not in reviewed]
    found.drift = [d for d in found.drift if d.key in reviewed]
    kept = []
    for event in found.accept:
        jobs = [j for j in event.jobs if f"job:{j.job_id}" in reviewed]
        keys = [k for k in event.keys if k in reviewed]
        if jobs or keys:
            kept.append(event.model_copy(update={"jobs": jobs, "keys": keys}))
    found.accept = kept
    return [
        f"{d.address}: drift found since the plan was made is not recorded ({d.detail}); "
        "review it with `plan --refresh`"
        for d in later
    ]
