"""The publish jobs a project needs: after its other jobs, one per composition with `publish:`.

A composition is published again when its publish settings changed (shown as a new publish,
never silently), when the project changed since its last publish (a step ran: the share page
would be stale), when jobs before it in this plan change the project, or when its last publish
failed. A publish an earlier apply left running is waited for first.
"""

from __future__ import annotations

from descript_iac.config.desired import DesiredProject
from descript_iac.config.model import Publish
from descript_iac.plan.model import PUBLISH_JOB, Action, ActionKind
from descript_iac.plan.shown import publish_settings
from descript_iac.state.document import ProjectState, PublishRecord, PublishSettings

FINISHED = ("stopped", "cancelled")


def settings_of(publish: Publish) -> PublishSettings:
    return PublishSettings(
        media_type=publish.media_type,
        resolution=publish.resolution,
        access_level=publish.access_level,
    )


def settings_change(have: PublishSettings, want: PublishSettings) -> str:
    """What changed between two publish settings, e.g. "resolution 720p -> 1080p"."""
    parts = []
    for name in ("media_type", "resolution", "access_level"):
        old, new = getattr(have, name), getattr(want, name)
        if old != new:
            parts.append(f"{name} {old or 'default'} -> {new or 'default'}")
    return ", ".join(parts)


def awaiting_publishes(address: str, state: ProjectState) -> list[Action]:
    """Publish jobs an earlier apply left running."""
    return [
        Action(
            address=address,
            kind=ActionKind.AWAIT,
            reason=f"publish job {record.job_id} from an earlier apply is {record.job_state}; "
            "apply waits for it",
            job_type=PUBLISH_JOB,
            compositions=(name,),
        )
        for name, record in sorted(state.publishes.items())
        if record.job_state not in FINISHED
    ]


def publish_actions(
    address: str,
    desired: DesiredProject,
    state: ProjectState | None,
    before: list[Action],
) -> list[Action]:
    """The publishes to run after `before` (the project's other actions in this plan)."""
    remade = any(a.kind in (ActionKind.CREATE, ActionKind.REPLACE) for a in before)
    changing = any(a.issues_job for a in before)
    out: list[Action] = []
    for composition in desired.spec.compositions:
        if composition.publish is None:
            continue
        want = settings_of(composition.publish)
        record = None if (state is None or remade) else state.publishes.get(composition.name)
        if record is not None and record.job_state not in FINISHED:
            continue  # awaited first; planned again once it stopped
        reason = _why(record, want, changing, state)
        if reason is None:
            continue
        out.append(
            Action(
                address=address,
                kind=ActionKind.PUBLISH,
                reason=reason,
                job_type=PUBLISH_JOB,
                before=record.settings.describe() if record is not None else None,
                after=want.describe(),
                compositions=(composition.name,),
                settings=publish_settings(composition.publish),
            )
        )
    return out


def _why(
    record: PublishRecord | None, want: PublishSettings, changing: bool, state: ProjectState | None
) -> str | None:
    if record is None:
        after = " after the jobs above" if changing else ""
        return f"new publish ({want.describe()}){after}"
    if record.settings != want:
        change = settings_change(record.settings, want)
        return f"publish settings changed: {change}; publishes again"
    if record.status != "success":
        failed = record.error_message or record.status or record.job_state
        return f"the last publish did not succeed ({failed}); publishes again"
    if changing:
        return "republish after the jobs above (the share page would be stale)"
    if state is not None and record.content != state.content():
        return "the project changed since it was published; publishes again"
    return None
