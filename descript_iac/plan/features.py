"""Which API features a project's planned jobs need, and what the plan says when the API lacks
one: the action is blocked with the feature named, so nothing is sent (never a failure
mid-apply). The seed-level API has none of them; Descript's 2026 API has all.
"""

from __future__ import annotations

import msgspec

from descript_iac.api.capabilities import Feature
from descript_iac.config.desired import DesiredProject
from descript_iac.plan.model import Action, ActionKind, PlanOptions

WHAT = {
    Feature.FOLDERS: "`folder:` (folder_name on imports)",
    Feature.COMPOSITION_TARGET: "a step's `composition:` (composition_id on agent jobs)",
    Feature.PUBLISH: "`publish:` (publish jobs, POST /v1/jobs/publish)",
}


def needed(action: Action, desired: DesiredProject | None) -> Feature | None:
    """The feature beyond the seed-level API that `action`'s job needs, if any."""
    if desired is None or not action.issues_job:
        return None
    if action.kind is ActionKind.PUBLISH:
        return Feature.PUBLISH
    if action.step_id is not None:
        step = next((s for s in desired.spec.steps if s.id == action.step_id), None)
        if step is not None and step.composition:
            return Feature.COMPOSITION_TARGET
        return None
    creates = action.kind in (ActionKind.CREATE, ActionKind.REPLACE)
    if creates and desired.spec.folder:
        return Feature.FOLDERS
    return None


def check_features(
    actions: list[Action], desired: DesiredProject | None, options: PlanOptions
) -> tuple[list[Action], set[str]]:
    """`actions` with those the API cannot run blocked; and every feature they need."""
    needs: set[str] = set()
    out: list[Action] = []
    for action in actions:
        feature = needed(action, desired)
        if feature is not None:
            needs.add(feature.value)
        if feature is None or options.api_features is None or feature in options.api_features:
            out.append(action)
            continue
        level = options.api_level or "seed"
        what = WHAT[feature]
        if action.kind is ActionKind.PUBLISH and action.compositions:
            what = f"composition '{action.compositions[0]}': {what}"
        out.append(
            msgspec.structs.replace(
                action,
                kind=ActionKind.BLOCKED,
                reason=f"{what} is not supported by this API (level {level}): "
                f"it needs the '{feature.value}' feature of Descript's 2026 API. Nothing "
                "will be sent; remove it from the config, or use an API that has it (the "
                "emulator's: --emulator --api-level 2026, or emulator serve --api-level "
                "2026)",
            )
        )
    return out, needs
