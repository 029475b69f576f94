"""A restored or older state: agent jobs on projects it manages that it does not record, newer
than the newest job it records there. Its next run would send them again (issue #20). Pure: a
function of the history page, the managed projects and the recorded job ids."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from descript_iac.api.models import AGENT_JOB, Job
from descript_iac.apply.evidence import job_order


def _time(job: Job) -> float:
    return job.created_at.timestamp() if job.created_at else float("inf")


@dataclass(frozen=True)
class Unrecorded:
    """Jobs on a project the state manages that the state does not record, newer than it: a
    restored or older state, whose next run would send them again."""

    address: str
    project_id: str
    job_ids: tuple[str, ...]


def unrecorded(
    history: Sequence[Job],
    managed: Mapping[str, tuple[str, float]],
    recorded: frozenset[str],
) -> list[Unrecorded]:
    """Agent jobs on managed projects (address -> project id, newest job the state records on
    it) that `recorded` (every job id the state knows) lacks, made after that newest (pure)."""
    by_project: dict[str, list[Job]] = defaultdict(list)
    for job in sorted(history, key=job_order):
        if job.job_type == AGENT_JOB and job.job_id not in recorded and job.project_id:
            by_project[job.project_id].append(job)
    out = []
    for address, (project_id, newest) in sorted(managed.items()):
        ids = tuple(j.job_id for j in by_project.get(project_id, ()) if _time(j) > newest)
        if ids:
            out.append(Unrecorded(address, project_id, ids))
    return out


def stale_state(found: Sequence[Unrecorded]) -> str:
    lines = [
        f"  {u.address} (project {u.project_id}): job(s) {', '.join(u.job_ids)}" for u in found
    ]
    return (
        "the job history has agent jobs on projects this state manages that the state does not "
        "record, newer than anything it records (a restored or older state?); applying would "
        "send them again, so nothing was sent:\n"
        + "\n".join(lines)
        + "\nIf a newer state of this workspace exists, merge it: `descript-iac state recover` "
        "(or `descript-iac state rebuild`). If the jobs were run by hand, accept them as drift: "
        "`descript-iac plan --refresh`, then `descript-iac apply --refresh`."
    )
