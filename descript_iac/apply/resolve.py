"""What became of an intent whose POST outcome is unknown: a pure verdict from the evidence.

(intent, evidence, timing) -> adopt the job / wait until T / re-issue / quarantine. No I/O and no
clock: the caller lists the job history, fetches project details where the API has them, collects
every job id recorded by anyone on the drive, and reads the server's time, then asks.

The rules, strictest first:
- A job recorded by anyone on the drive is never a candidate; nor is a job outside the intent's
  window (timing.py), of another type, on another project (a step, an update), or on a project
  this workspace already manages (a create).
- With the projects API, a candidate is confirmed by its project's name (a salted digest of the
  name the intent sent) and, once an import stopped, its media and composition names; a
  contradicted candidate is rejected (another client's look-alike). One confirmed candidate is
  adopted at once.
- A publish job shows the composition it renders (in its progress, then its result): one of
  another composition of the project is rejected.
- Without confirmation, nothing is adopted while the window is open or the history may still lag
  (a look-alike may be visible before our own job is). After that: a prompt-only create is never
  adopted (the job view shows nothing of it: it could be another client's), a running import is
  waited for until its names show, and exactly one candidate that matches everything the job
  view shows is adopted; more than one is a quarantine for a person to decide.
- "No such job" re-issues only once the evidence is complete, and never while a project with
  the intent's name, made in its window, has no job to show for it (its job is lagging).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from descript_iac.api.models import (
    IMPORT_JOB,
    PUBLISH_JOB,
    Job,
    ProjectDetails,
    ProjectSummary,
)
from descript_iac.plan.digests import name_digest
from descript_iac.state.document import Intent
from descript_iac.timing import HORIZON, HORIZON_MARGIN, Timing

Kind = Literal["adopt", "wait", "reissue", "quarantine"]


@dataclass(frozen=True)
class Evidence:
    history: Sequence[Job]  # every job created since before the intent's window
    as_of: float  # server time the history was read at, at the earliest
    excluded: frozenset[str]  # job ids recorded by any workspace on the drive
    known_projects: frozenset[str]  # projects this workspace manages
    salt: str  # the state's salt, to compare project names with the intent's digest
    # With the projects API: details of candidate projects, and projects named as the intent's
    # project made in its window. None: the API has no projects endpoints.
    details: Mapping[str, ProjectDetails] | None = None
    named: Sequence[ProjectSummary] | None = None
    # Projects the API refused to show us (403): made by another user, never by this token.
    forbidden: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Verdict:
    kind: Kind
    job: Job | None = None
    candidates: tuple[str, ...] = ()
    reason: str = ""
    until: float | None = None  # wait: server time by which the evidence will be complete


def window(intent: Intent, timing: Timing) -> tuple[float, float]:
    """When the intent's job, if it exists, was created, by the clock that stamps `created_at`.
    The send time is on the `Date` clock: the offset measured between the two (or, before any
    sample, the widest tolerated) widens the window on both sides."""
    skew = max(timing.clock_skew, intent.clock_skew or 0.0)
    return (_sent(intent)[0] - skew, _committed_by(intent, timing) + skew)


def complete_at(intent: Intent, timing: Timing) -> float:
    """Server time (`Date` clock) after which the job history shows the intent's job if it
    exists. The longer of the settings now and those in force when the intent was sent. The
    job clock's offset plays no part: commit span and lag are durations, measured here on the
    one clock both the send time and `as_of` are on."""
    return _committed_by(intent, timing) + max(timing.history_lag, intent.history_lag or 0.0)


def _sent(intent: Intent) -> tuple[float, float]:
    return (intent.sent_at - intent.clock_error, intent.sent_at + intent.clock_error)


def _committed_by(intent: Intent, timing: Timing) -> float:
    """By when (`Date` clock) the job, if it exists, was committed."""
    return _sent(intent)[1] + max(timing.commit_span, intent.commit_span or 0.0)


def is_create(intent: Intent) -> bool:
    return intent.project_id is None


def candidates(intent: Intent, evidence: Evidence, timing: Timing) -> list[Job]:
    """Jobs in the history that the intent could have made, judged by the job view alone."""
    start, end = window(intent, timing)
    found = []
    for job in evidence.history:
        if job.job_id in evidence.excluded or job.job_type != intent.job_type:
            continue
        created = job.created_at.timestamp() if job.created_at else None
        if created is None or not start <= created <= end:
            continue
        if intent.project_id is not None:
            if job.project_id != intent.project_id:
                continue
        elif job.project_id in evidence.known_projects:
            continue
        found.append(job)
    return found


Judgement = Literal["confirmed", "possible", "running", "unconfirmable", "rejected"]


def judge(intent: Intent, job: Job, evidence: Evidence) -> Judgement:
    """How far one candidate can be told to be the intent's."""
    if intent.job_type == PUBLISH_JOB:
        shown = _published_composition(job)
        if shown is not None and intent.composition_id is not None:
            return "possible" if shown == intent.composition_id else "rejected"
        return "possible"
    if intent.job_type == IMPORT_JOB:
        result = job.import_result
        if result is not None and not _names_match(intent, job):
            return "rejected"
    if is_create(intent) and job.project_id in evidence.forbidden:
        return "rejected"  # a project this token made is always readable by it
    details = evidence.details.get(job.project_id or "") if evidence.details is not None else None
    # (An intent journaled by an older release has no facets: it is judged as without details.)
    if details is not None and is_create(intent) and intent.facets is not None:
        if name_digest(evidence.salt, details.name) != intent.facets.name:
            return "rejected"
        stopped_import = intent.job_type == IMPORT_JOB and job.import_result is not None
        if stopped_import and not set(intent.media_names) <= set(details.media_files):
            return "rejected"
        return "confirmed"
    if intent.job_type == IMPORT_JOB and job.import_result is None:
        return "running"  # its names are not visible yet
    if is_create(intent) and intent.job_type != IMPORT_JOB:
        return "unconfirmable"  # a prompt-only create: the job view shows nothing of it
    return "possible"


def _published_composition(job: Job) -> str | None:
    """The composition a publish job renders, where its view shows it."""
    result = job.publish_result
    if result is not None and result.composition_id:
        return result.composition_id
    return job.progress.composition_id if job.progress is not None else None


def _names_match(intent: Intent, job: Job) -> bool:
    result = job.import_result
    assert result is not None
    if not set(intent.media_names) <= set(result.media_status):
        return False
    if intent.project_id is None and set(result.media_status) != set(intent.media_names):
        return False
    if result.status != "error":
        names = {c.name for c in result.created_compositions}
        return names == set(intent.composition_names)
    return True


def resolve(intent: Intent, evidence: Evidence, timing: Timing) -> Verdict:
    """Decide what became of `intent`."""
    found = candidates(intent, evidence, timing)
    judged = {job.job_id: judge(intent, job, evidence) for job in found}
    by = {kind: [j for j in found if judged[j.job_id] == kind] for kind in set(judged.values())}
    confirmed = by.get("confirmed", [])
    open_to = [j for j in found if judged[j.job_id] != "rejected"]
    ids = tuple(sorted(j.job_id for j in open_to))
    until = complete_at(intent, timing)
    complete = evidence.as_of >= until
    rejected = len(found) - len(open_to)
    others = f" ({rejected} look-alike job(s) of other clients rejected)" if rejected else ""

    if len(confirmed) == 1 and len(open_to) == 1:
        return Verdict("adopt", confirmed[0], ids, f"found in the job history, confirmed{others}")
    if len(confirmed) > 1:
        return Verdict(
            "quarantine",
            candidates=ids,
            reason=f"{len(confirmed)} projects made in the window have this project's name",
        )
    if evidence.as_of - intent.sent_at > HORIZON - HORIZON_MARGIN - timing.commit_span:
        return Verdict(
            "quarantine",
            candidates=ids,
            reason="the job history no longer reaches back to when it was sent (30 days); "
            "check the project in Descript",
        )
    if not complete:
        return Verdict(
            "wait",
            candidates=ids,
            reason="the job history may still lag behind" + others,
            until=until,
        )
    running = by.get("running", [])
    if running and evidence.details is None:
        return Verdict(
            "wait",
            candidates=ids,
            reason=f"{len(running)} import(s) in the window still running: their media names "
            "are not visible yet",
        )
    if by.get("unconfirmable"):
        return Verdict(
            "quarantine",
            candidates=ids,
            reason="agent jobs in the window created projects this workspace does not know, and "
            "without the projects API nothing tells another client's job from this one's",
        )
    if len(open_to) == 1:
        return Verdict("adopt", open_to[0], ids, f"found in the job history{others}")
    if len(open_to) > 1:
        return Verdict(
            "quarantine",
            candidates=ids,
            reason=f"{len(open_to)} jobs in the history could be the one this intent sent",
        )
    orphaned = _named_without_job(intent, evidence, timing)
    if orphaned:
        return Verdict(
            "quarantine",
            reason=f"project(s) {', '.join(orphaned)} with this project's name were made in the "
            "window, but no job for them is in the history",
        )
    return Verdict("reissue", reason="no such job in the history once it was complete" + others)


def _named_without_job(intent: Intent, evidence: Evidence, timing: Timing) -> list[str]:
    """Projects with the intent's name, made in its window, that no listed job accounts for."""
    if not is_create(intent) or evidence.named is None or intent.facets is None:
        return []
    start, end = window(intent, timing)
    listed = {j.project_id for j in evidence.history}
    return sorted(
        p.id
        for p in evidence.named
        if p.id not in evidence.known_projects
        and p.id not in listed
        and name_digest(evidence.salt, p.name) == intent.facets.name
        and p.created_at is not None
        and start <= p.created_at.timestamp() <= end
    )
