"""What a stopped job means for the apply: its one-line description and what it adds up to."""

from __future__ import annotations

from descript_iac.api.models import Job
from descript_iac.apply.result import ApplyResult
from descript_iac.plan.model import Action, ActionKind


def describe(job: Job) -> str:
    """`success: 3 media`, `error: prompt refused (...)`: the status and what the job says."""
    result = job.result
    if result is None:
        return job.job_state
    if job.agent_result is not None and job.agent_result.agent_response:
        text = job.agent_result.agent_response
    elif job.publish_result is not None:
        text = job.publish_result.share_url or ""
    elif job.import_result is not None:
        statuses = job.import_result.media_status
        failed = [
            f"{n} ({m.error_message or m.status})"
            for n, m in statuses.items()
            if m.status != "success"
        ]
        text = f"{len(statuses)} media"
        if failed:
            text += f", failed: {', '.join(failed)}"
    else:
        text = ""
    if result.error_message:
        text = f"{result.error_message}" + (f" ({text})" if text else "")
    return f"{result.status}: {text}" if text else result.status


def used(job: Job) -> tuple[float, float]:
    """(AI credits, media seconds) the stopped `job` used."""
    if job.result is None:
        return 0.0, 0.0
    credits = float(job.agent_result.ai_credits_used or 0) if job.agent_result else 0.0
    return credits, float(job.result.media_seconds_used or 0)


def tally(result: ApplyResult, job: Job, action: Action, ok: bool) -> None:
    """Add what the stopped `job` of `action` used and, if `ok`, did, to `result`."""
    credits, media = used(job)
    result.ai_credits += credits
    result.media_seconds += media
    if job.result is not None and getattr(job.result, "refused_numbers", None):
        result.unknown_spend += 1  # (api/models.py marks the numbers it refused)
    if not ok:
        return
    if action.kind is ActionKind.CREATE:
        result.created += 1
    elif action.kind is ActionKind.REPLACE:
        result.replaced += 1
    elif action.kind is ActionKind.UPDATE:
        result.updated += 1
    elif action.kind is ActionKind.PUBLISH:
        result.published += 1
    if action.step_id:
        result.steps_run += 1
