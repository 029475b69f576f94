"""A restored or older state: the I/O around the pure check (apply/stale.py). Asked only when the
plan runs steps on managed projects: one listing of agent jobs since the oldest of those
projects' newest recorded jobs."""

from __future__ import annotations

from datetime import datetime

from descript_iac.api import DescriptClient
from descript_iac.api.models import AGENT_JOB
from descript_iac.apply.evidence import history_since
from descript_iac.apply.stale import Unrecorded, unrecorded
from descript_iac.plan import Plan
from descript_iac.plan.model import ActionKind
from descript_iac.state.document import ProjectState, StateDocument


def _created(at: str | None, sent_at: float) -> float:
    """When a recorded job was made, in the server's own time (its `created_at`, comparable to
    the history's); the send time when the record has none."""
    if at:
        try:
            return datetime.fromisoformat(at).timestamp()
        except ValueError:
            pass
    return sent_at


def newest(project: ProjectState) -> float:
    """When the newest job the state records on `project` was made (0.0: none)."""
    times = [0.0, *(_created(s.created_at, s.sent_at) for s in project.steps)]
    times += [_created(p.created_at, p.sent_at) for p in project.publishes.values()]
    if project.import_:
        times.append(_created(project.import_.created_at, project.import_.sent_at))
    return max(times)


def stale_jobs(
    client: DescriptClient, plan: Plan, doc: StateDocument, reviewed: set[str] | None = None
) -> list[Unrecorded]:
    """Agent jobs the state lacks on managed projects the plan would run steps on; a job shown
    as drift in a reviewed (saved) plan, whose key is in `reviewed`, is accepted with it and not
    counted."""
    running = {a.address for a in plan.actions if a.kind is ActionKind.RUN}
    managed = {
        address: (p.project_id, newest(p))
        for address, p in doc.projects.items()
        if address in running and p.project_id
    }
    if not managed:
        return []
    since = min(at for _, at in managed.values())
    jobs = history_since(client, since - 1, AGENT_JOB)
    accepted = {key.removeprefix("job:") for key in reviewed or ()}
    return unrecorded(jobs, managed, frozenset(doc.known_job_ids()) | accepted)
