"""Evidence before any create: does a project the state does not know already exist in Descript?

A pure verdict per declared address, from data the caller read once (the job history, the
projects named like the declarations where the API has the projects endpoints):

- `exists`: the drive proves a project this workspace would have made (at the 2026 level one of
  the token's user's projects bears the name; at the seed level the imports that created a project
  made exactly the declared media and composition names). Never created again: the way on is
  `descript-iac import ADDRESS ID` or `apply --adopt-existing`.
- `unproven`: candidates the evidence cannot tell apart (two matches, a match claimed by two
  addresses, or, after a missing or rebuilt state, project-creating agent jobs at the seed level,
  whose job view shows no name). Not created until the user adopts one or passes --new-state.
- `create`: nothing in the drive could be it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from descript_iac.api.models import AGENT_JOB, IMPORT_JOB, Job, ProjectSummary
from descript_iac.apply.adoption import job_order

Kind = Literal["exists", "unproven", "create"]


@dataclass(frozen=True)
class Declared:
    """What a declaration shows the drive: its name, media and composition names."""

    address: str
    name: str
    media: frozenset[str]
    compositions: frozenset[str]


@dataclass(frozen=True)
class Found:
    """A project in Descript that a declaration could have made, with its evidence."""

    project_id: str
    url: str | None
    created_at: datetime | None
    job_ids: tuple[str, ...]
    why: str
    proven: bool = True

    def describe(self) -> str:
        when = self.created_at.isoformat() if self.created_at else "unknown time"
        jobs = ", ".join(self.job_ids) or "none in the 30-day history"
        url = f" {self.url}" if self.url else ""
        return f"project {self.project_id}{url} (created {when}; jobs: {jobs}; {self.why})"


@dataclass(frozen=True)
class Existing:
    address: str
    kind: Kind
    found: tuple[Found, ...] = ()


@dataclass(frozen=True)
class DriveView:
    """What the drive showed, read once per plan that proposes creates."""

    history: Sequence[Job]
    known_projects: frozenset[str]
    # Projects of the token's user named like each address (2026 level); None: no projects API.
    named: Mapping[str, Sequence[ProjectSummary]] | None = None
    # A prompt-only declaration cannot be told from the history's project-creating agent jobs
    # (the seed-level job view shows no name): those made after this time (server seconds) are
    # its unproven candidates. 0.0: the state is missing, new or rebuilt (all of them); else the
    # newest job the state records (a restored, older state); None: never asked.
    unproven_after: float | None = None


def _imported_names(jobs: Sequence[Job]) -> tuple[frozenset[str], frozenset[str] | None]:
    media: set[str] = set()
    compositions: set[str] | None = set()
    for job in jobs:
        result = job.import_result
        if result is None:
            continue
        media |= set(result.media_status)
        if result.status == "error" and not result.created_compositions:
            compositions = None  # failed before making any: not visible
        elif compositions is not None:
            compositions |= {c.name for c in result.created_compositions if c.name}
    return frozenset(media), None if compositions is None else frozenset(compositions)


def _found(project_id: str, jobs: Sequence[Job], why: str, summary: ProjectSummary | None) -> Found:
    first = jobs[0] if jobs else None
    created = summary.created_at if summary and summary.created_at else None
    if created is None and first is not None:
        created = first.created_at
    url = first.project_url if first is not None else None
    return Found(project_id, url, created, tuple(j.job_id for j in jobs), why)


def existing(declared: Sequence[Declared], view: DriveView) -> dict[str, Existing]:
    """A verdict for each declared address the state does not know (pure)."""
    by_project: dict[str, list[Job]] = defaultdict(list)
    for job in view.history:
        if job.project_id and job.project_id not in view.known_projects:
            by_project[job.project_id].append(job)
    for jobs in by_project.values():
        jobs.sort(key=job_order)
    matches: dict[str, list[Found]] = {}
    for want in declared:
        matches[want.address] = _matches(want, view, by_project)
    claimed: dict[str, set[str]] = defaultdict(set)
    for address, found in matches.items():
        for f in found:
            claimed[f.project_id].add(address)
    out: dict[str, Existing] = {}
    for want in declared:
        found = matches[want.address]
        if not found:
            out[want.address] = Existing(want.address, "create")
            continue
        proven = all(f.proven for f in found)
        alone = len(found) == 1 and claimed[found[0].project_id] == {want.address}
        kind: Kind = "exists" if proven and alone else "unproven"
        out[want.address] = Existing(want.address, kind, tuple(found))
    return out


def _matches(want: Declared, view: DriveView, by_project: Mapping[str, list[Job]]) -> list[Found]:
    if view.named is not None:
        summaries = [
            s
            for s in view.named.get(want.address, ())
            if s.name == want.name and s.id not in view.known_projects
        ]
        return [
            _found(s.id, by_project.get(s.id, ()), f"named {want.name!r}", s) for s in summaries
        ]
    found: list[Found] = []
    for project_id, jobs in sorted(by_project.items()):
        first = jobs[0]
        if want.media:
            imports = [j for j in jobs if j.job_type == IMPORT_JOB]
            if first.job_type != IMPORT_JOB:
                continue  # made by an agent job, or its creation is past the history
            media, compositions = _imported_names(imports)
            if media != want.media or compositions not in (None, want.compositions):
                continue
            found.append(_found(project_id, jobs, "its imports made the declared media", None))
        elif (
            view.unproven_after is not None
            and first.job_type == AGENT_JOB
            and _time(first) > view.unproven_after
        ):
            found.append(
                replace(
                    _found(project_id, jobs, "made by an agent job; its view shows no name", None),
                    proven=False,
                )
            )
    return found


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


def blocking(verdicts: Mapping[str, Existing]) -> list[Existing]:
    return [v for v in verdicts.values() if v.kind != "create"]


def way_on(verdicts: Sequence[Existing]) -> str:
    """The message that stops a create the drive argues against, naming the way on."""
    lines = []
    for v in verdicts:
        if v.kind == "exists":
            f = v.found[0]
            lines.append(f"  {v.address} <= exists in Descript: {f.describe()}")
            lines.append(f"    adopt it: descript-iac import {v.address} {f.project_id}")
        else:
            lines.append(
                f"  {v.address} ? {len(v.found)} unproven candidate(s) in the job history "
                "(the API shows nothing that tells them apart):"
            )
            lines += [f"    {f.describe()}" for f in v.found]
            lines.append(f"    adopt one: descript-iac import {v.address} PROJECT_ID")
    return (
        "the state does not know these projects, but the drive shows they may already exist; "
        "nothing was created:\n"
        + "\n".join(lines)
        + "\nAdopt each (`descript-iac import ADDRESS ID`; `descript-iac state rebuild` for "
        "all proven ones), or, if they are not this workspace's, make them again with "
        "--new-state."
    )
