"""Find the job of an intent whose POST outcome is unknown (the reply was lost, or the run died).

The job history does not show project names, and many projects share media and composition
names, so matching is kept unambiguous by design: the apply engine never has two POSTs of the
same job type in doubt at once, and jobs already recorded in the state are never candidates.
What is left in the intent's time window, of its job type (and, for agent jobs, on its project),
is its job. A stopped import must also show the intent's media and composition names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from descript_iac.api.models import Job
from descript_iac.state.document import Intent

SKEW = 120.0  # seconds this machine's clock may differ from the API's
REQUEST_SPAN = 300.0  # longest a POST may take between send and commit
DEFAULT_GRACE = 60.0  # seconds after sending before "no job" means "never created"
LOOKBACK = 30 * 86_400.0 - 3600.0  # the job history the API can still show

Verdict = Literal["adopt", "reissue", "wait", "quarantine"]


@dataclass(frozen=True)
class Resolution:
    verdict: Verdict
    job: Job | None = None
    candidates: tuple[str, ...] = ()
    reason: str = ""


def window(intent: Intent) -> tuple[float, float]:
    return intent.sent_at - SKEW, intent.sent_at + SKEW + REQUEST_SPAN


def _fits(intent: Intent, job: Job, known_projects: set[str]) -> bool:
    if job.job_type != intent.job_type:
        return False
    start, end = window(intent)
    created = job.created_at.timestamp() if job.created_at else None
    if created is None or not start <= created <= end:
        return False
    if intent.job_type == "agent":
        if intent.project_id:
            return job.project_id == intent.project_id
        return job.project_id not in known_projects  # a prompt-only create makes a new project
    if intent.project_id:  # import into an existing project
        if job.project_id != intent.project_id:
            return False
    elif job.project_id in known_projects:
        return False
    result = job.import_result
    if result is None:
        return True  # still running: names are not visible yet
    if set(result.media_status) != set(intent.media_names):
        return False
    if result.status != "error":
        names = {c.name for c in result.created_compositions}
        return names == set(intent.composition_names)
    return True


def resolve_intent(
    intent: Intent,
    history: list[Job],
    known_jobs: set[str],
    known_projects: set[str],
    now: float,
    grace: float = DEFAULT_GRACE,
) -> Resolution:
    """Decide what became of `intent`, given the job history around its send time."""
    matches = [
        job
        for job in history
        if job.job_id not in known_jobs and _fits(intent, job, known_projects)
    ]
    if len(matches) == 1:
        return Resolution("adopt", matches[0], (matches[0].job_id,), "found in the job history")
    if len(matches) > 1:
        ids = tuple(sorted(j.job_id for j in matches))
        return Resolution(
            "quarantine",
            candidates=ids,
            reason=f"{len(ids)} jobs in the history could be the one this intent sent",
        )
    if now - intent.sent_at > LOOKBACK - SKEW - REQUEST_SPAN:
        return Resolution(
            "quarantine",
            reason="the job history no longer reaches back to when it was sent (30 days); "
            "check the project in Descript",
        )
    if now - intent.sent_at >= grace:
        return Resolution(
            "reissue",
            reason=f"no such job in the history {now - intent.sent_at:.0f}s after sending",
        )
    return Resolution("wait", reason="not in the job history yet")
