"""The job history (`GET /v1/jobs`) and what happens to a project when its jobs stop.

With `history_lag: L` the history is eventually consistent: a job appears in the list only once
`now >= created_at + L`. `GET /v1/jobs/{id}` is not lagged, so a client that holds a job id can
always read it; the lag hurts exactly the client that lost the reply with the id in it.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from descript_iac.emulator import validation as v
from descript_iac.emulator.exceptions import InvalidInput
from descript_iac.emulator.publishing import finish_publish
from descript_iac.emulator.records import JobRecord, ProjectRecord

if TYPE_CHECKING:
    from descript_iac.emulator.backend import Backend

DAY = 86_400.0
SEED_JOB_TYPES = ("import/project_media", "agent")
JOB_TYPES_2026 = (*SEED_JOB_TYPES, "publish")


def list_jobs(backend: Backend, token: str, params: dict[str, str]) -> dict[str, Any]:
    now = backend.clock.now()
    limit = v.list_limit(params.get("limit"))
    types = JOB_TYPES_2026 if backend.level == "2026" else SEED_JOB_TYPES
    kind = v.query_choice(params, "type", types)
    after = v.query_time(params, "created_after")
    before = v.query_time(params, "created_before")
    if after is None:
        after = now - 7 * DAY
    if after < now - 30 * DAY - 1:
        raise InvalidInput("created_after is too far back: the maximum lookback is 30 days")
    before = now if before is None else before
    below = _cursor_seq(params.get("cursor"))
    drive = backend.drive_id(token)
    project_id = params.get("project_id")
    visible_before = now - backend.config.faults.history_lag
    matching = [
        j
        for j in backend.jobs.values()
        if j.drive_id == drive
        and j.created_at <= visible_before
        and after <= j.created_at <= before
        and (kind is None or j.job_type == kind)
        and (project_id is None or j.project_id == project_id)
        and (below is None or j.seq < below)
    ]
    matching.sort(key=lambda j: j.seq, reverse=True)
    page = matching[:limit]
    pagination: dict[str, str] = {}
    if len(matching) > limit:  # no more pages: the key is absent, as the API documents
        pagination["next_cursor"] = base64.urlsafe_b64encode(str(page[-1].seq).encode()).decode()
    return {"data": [j.view(now) for j in page], "pagination": pagination}


def _cursor_seq(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        return int(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("cursor is not valid; use pagination.next_cursor as given") from None


def reschedule(backend: Backend, project: ProjectRecord, now: float) -> None:
    """After a cancellation, the project's queued jobs move up (one job runs at a time)."""
    free_at = 0.0
    for job_id in project.job_ids:
        job = backend.jobs[job_id]
        if job.cancelled_at is not None:
            continue
        if job.start_at <= now:  # started (or stopped): it keeps its times
            free_at = max(free_at, job.end_at)
            continue
        duration = job.end_at - job.start_at
        job.start_at = max(free_at, job.created_at, now)
        job.end_at = job.start_at + duration
        free_at = job.end_at
        backend.persist(None, job)
    project.busy_until = max(free_at, now)


def finish(project: ProjectRecord, job: JobRecord, state: str) -> None:
    """Apply a stopped job's effects to its project; a cancelled job only frees its names."""
    effects = job.effects
    if state == "stopped":
        project.media.update(effects.get("media", {}))
        project.compositions.extend(effects.get("compositions", []))
        for edit in effects.get("edits", []):
            entry = {"job_id": job.job_id, "edit": edit}
            if effects.get("composition_id"):
                entry["composition_id"] = effects["composition_id"]
            project.edits.append(entry)
        if "publish" in effects and job.result.get("status") == "success":
            finish_publish(project, effects, job.end_at)
        if job.result.get("status") in ("success", "partial"):
            project.updated_at = max(project.updated_at, job.end_at)
    for name in effects.get("reserved", []):
        if project.media.get(name) == {"status": "pending"}:
            del project.media[name]
