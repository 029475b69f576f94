"""`state rebuild`: find, for each configured project the state lacks, the project it made.

Evidence, strictest first (ambiguity is reported, never resolved by guessing):
- a project with media: the projects whose imports created exactly its media and composition
  names (the job history, 30 days); with the projects API, also named as the configured project
  (a look-alike of another name is rejected);
- a prompt-only project: with the projects API, the projects named as it; the seed-level API
  shows nothing that tells one prompt-only project from another, so it is reported, not guessed;
- steps: the project's agent jobs in order, each failed attempt followed by its re-run, as apply
  sends them. More jobs than steps, or a history that no longer reaches the project's creation,
  cannot be counted: reported.

A project that could belong to two configured projects is ambiguous for both. What is matched is
recorded with the same reducer as apply (adoption.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from descript_iac.adoption.records import ProjectEvidence, adopted_record
from descript_iac.api import DescriptClient
from descript_iac.api.capabilities import Feature
from descript_iac.api.models import IMPORT_JOB, Job, ProjectDetails
from descript_iac.apply.evidence import history_since, job_order, known_projects
from descript_iac.config.desired import DesiredProject, Workspace
from descript_iac.config.model import AgentStep
from descript_iac.state.document import ProjectState, StateDocument
from descript_iac.timing import Timing

Outcome = Literal["matched", "ambiguous", "missing"]


@dataclass
class Finding:
    address: str
    outcome: Outcome
    detail: str
    record: ProjectState | None = None


@dataclass
class RebuildReport:
    findings: list[Finding] = field(default_factory=list)

    def of(self, outcome: Outcome) -> list[Finding]:
        return [f for f in self.findings if f.outcome == outcome]


def assign_steps(
    steps: Sequence[AgentStep], jobs: Sequence[Job]
) -> tuple[list[tuple[AgentStep, list[Job]]], str | None]:
    """The steps the agent jobs ran, in order (apply re-runs a failed step before the next)."""
    out: list[tuple[AgentStep, list[Job]]] = []
    attempts: list[Job] = []
    for job in jobs:
        if len(out) >= len(steps):
            return [], (
                f"{len(jobs)} agent jobs on the project are more than its {len(steps)} step(s) "
                "account for (prompts run by hand?): which step each ran cannot be told"
            )
        attempts.append(job)
        failed = job.finished and (job.result is None or job.result.status != "success")
        if not failed:
            out.append((steps[len(out)], attempts))
            attempts = []
    if attempts:
        out.append((steps[len(out)], attempts))  # failed: the next apply runs it again
    return out, None


def _names(jobs: Sequence[Job]) -> tuple[set[str], set[str] | None]:
    """Media names and created composition names of a project's imports (None: not visible,
    because an import failed before making any)."""
    media: set[str] = set()
    compositions: set[str] | None = set()
    for job in jobs:
        result = job.import_result
        if result is None:
            continue
        media |= set(result.media_status)
        if result.status == "error" and not result.created_compositions:
            compositions = None
        elif compositions is not None:
            compositions |= {c.name for c in result.created_compositions if c.name}
    return media, compositions


class Rebuilder:
    def __init__(
        self,
        client: DescriptClient,
        doc: StateDocument,
        timing: Timing,
        others: frozenset[str] = frozenset(),
    ) -> None:
        """`others`: job ids other states on the drive recorded (their projects are theirs)."""
        self.others = others
        self.client = client
        self.doc = doc
        self.timing = timing
        self.projects_api = client.capabilities().has(Feature.PROJECTS)
        self._details: dict[str, ProjectDetails] = {}
        # The jobs of the projects this state does not know, by project (set by `run`).
        self.by_project: dict[str, list[Job]] = {}

    def details(self, project_id: str) -> ProjectDetails:
        if project_id not in self._details:
            self._details[project_id] = self.client.get_project(project_id)
        return self._details[project_id]

    def named(self, name: str) -> list[str]:
        """Ids of the projects named exactly `name` (projects API; its filter is a substring)."""
        found: list[str] = []
        cursor: str | None = None
        while True:
            page = self.client.list_projects(name=name, cursor=cursor)
            found += [p.id for p in page.data if p.name == name]
            cursor = page.pagination.next_cursor
            if not cursor:
                return found

    def run(self, workspace: Workspace) -> RebuildReport:
        known = known_projects(self.doc)
        history = history_since(self.client, 0.0)
        by_project: dict[str, list[Job]] = defaultdict(list)
        for job in history:
            if job.project_id and job.project_id not in known:
                by_project[job.project_id].append(job)
        for project_id, jobs in list(by_project.items()):
            if any(job.job_id in self.others for job in jobs):
                del by_project[project_id]  # another state's: never a candidate
                continue
            jobs.sort(key=job_order)
        self.by_project = dict(by_project)
        wanted = {a: p for a, p in workspace.projects.items() if a not in self.doc.projects}
        candidates = {a: self.candidates(p, by_project) for a, p in wanted.items()}
        claimed: dict[str, list[str]] = defaultdict(list)
        for address, ids in candidates.items():
            for project_id in ids:
                claimed[project_id].append(address)
        report = RebuildReport()
        for address, desired in wanted.items():
            ids = candidates[address]
            shared = sorted({a for p in ids for a in claimed[p]} - {address})
            report.findings.append(self.finding(desired, ids, shared, by_project))
        return report

    def made_by_agents(self) -> dict[str, list[Job]]:
        """The unknown projects an agent job created (their first job in the history is an
        agent job): at the seed level nothing tells whose prompt-only project each is."""
        return {
            p: jobs for p, jobs in self.by_project.items() if jobs and jobs[0].job_type == "agent"
        }

    def candidates(self, desired: DesiredProject, by_project: dict[str, list[Job]]) -> list[str]:
        if not desired.has_media:
            if not self.projects_api:
                return []
            known = known_projects(self.doc)
            return sorted(p for p in self.named(desired.name) if p not in known)
        want_media = set(desired.spec.media)
        want_compositions = {c.name for c in desired.spec.compositions}
        found = []
        for project_id, jobs in by_project.items():
            imports = [j for j in jobs if j.job_type == IMPORT_JOB]
            if not imports or jobs[0].job_type != IMPORT_JOB:
                continue  # made by an agent job, or its creation is past the history
            media, compositions = _names(imports)
            if media != want_media or compositions not in (None, want_compositions):
                continue
            if self.projects_api and self.details(project_id).name != desired.name:
                continue  # another client's look-alike: its name tells it apart
            found.append(project_id)
        return sorted(found)

    def finding(
        self,
        desired: DesiredProject,
        ids: list[str],
        shared: list[str],
        by_project: dict[str, list[Job]],
    ) -> Finding:
        address = desired.address
        use_import = f"run `descript-iac import {address} PROJECT_ID` with the right one"
        if not ids:
            if not desired.has_media and not self.projects_api:
                why = (
                    "prompt-only: without the projects API nothing in the job history tells "
                    "which project it made"
                )
            else:
                why = "no project in the job history (30 days) matches it"
            return Finding(
                address,
                "missing",
                f"{why}. If it exists, run `descript-iac import {address} PROJECT_ID`; "
                "otherwise the next apply creates it",
            )
        if len(ids) > 1 or shared:
            also = f"; they also match {', '.join(shared)}" if shared else ""
            return Finding(
                address,
                "ambiguous",
                f"{len(ids)} project(s) match ({', '.join(ids)}){also}: nothing the API shows "
                f"tells them apart; {use_import}",
            )
        project_id = ids[0]
        jobs = by_project.get(project_id, [])
        details = self.details(project_id) if self.projects_api else None
        evidence = ProjectEvidence(project_id, details, tuple(jobs))
        tolerance = self.timing.commit_span + self.client.clock.error + 60
        steps = list(desired.spec.steps)
        if steps and not evidence.reaches_creation(tolerance):
            return Finding(
                address,
                "ambiguous",
                f"project {project_id} matches, but the job history no longer reaches its "
                "creation, so which steps ran cannot be counted; run `descript-iac import "
                f"{address} {project_id} --mark-applied STEP_ID ...` for the steps that ran",
            )
        agent = [j for j in jobs if j.job_type == "agent"]
        assigned, problem = assign_steps(steps, agent)
        if problem is not None:
            return Finding(
                address,
                "ambiguous",
                f"project {project_id} matches, but {problem}; run `descript-iac import {address} "
                f"{project_id} --mark-applied STEP_ID ...`",
            )
        record = adopted_record(desired, evidence, self.doc.salt, assigned, origin="rebuild")
        ran = ", ".join(f"{step.id} ({len(attempts)} job(s))" for step, attempts in assigned)
        return Finding(
            address,
            "matched",
            f"project {project_id}: {len(evidence.import_jobs)} import job(s); steps "
            f"{ran or 'none yet'}",
            record,
        )
