"""Gather the evidence about intents in doubt: all the I/O around the pure verdict (resolve.py).

One round reads the job history once from the oldest intent's window, the details of candidate
projects and the projects named like the intents' where the API has the projects endpoints, and
every job id recorded by anyone on the drive; then each intent gets its verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from descript_iac.api import DescriptClient
from descript_iac.api.capabilities import Feature
from descript_iac.api.errors import Forbidden, NotFound
from descript_iac.api.models import Job, ProjectDetails, ProjectSummary
from descript_iac.apply.resolve import Evidence, Verdict, candidates, is_create, resolve, window
from descript_iac.config.desired import Workspace
from descript_iac.plan.digests import name_digest
from descript_iac.state.document import Intent, StateDocument
from descript_iac.state.drive import DriveRegistry
from descript_iac.timing import Timing, history_floor

PAGE = 100
# The desired project name for an address, when it is still the one the intent sent (its digest
# matches); None otherwise. Used to look projects up by name.
NameOf = Callable[[str, Intent], "str | None"]


def desired_names(workspace: Workspace, doc: StateDocument) -> NameOf:
    """The desired name of an address, when it is still the name the intent sent."""

    def name_of(address: str, intent: Intent) -> str | None:
        desired = workspace.projects.get(address)
        if desired is None or intent.facets is None:
            return None
        if name_digest(doc.salt, desired.name) != intent.facets.name:
            return None
        return desired.name

    return name_of


def history_since(client: DescriptClient, since: float, job_type: str | None = None) -> list[Job]:
    """Every job created since `since` (within the API's 30-day history), newest first."""
    after = max(since, history_floor(client.clock.now()))
    return list(client.iter_jobs(limit=PAGE, created_after=after, job_type=job_type))


def known_projects(doc: StateDocument) -> frozenset[str]:
    """Every project this workspace made, current, orphaned or forgotten."""
    ids: set[str] = set()
    for project in [*doc.projects.values(), *(p for h in doc.forgotten.values() for p in h)]:
        if project.project_id:
            ids.add(project.project_id)
        ids.update(o.project_id for o in project.orphans)
    return frozenset(ids)


@dataclass
class EvidenceReader:
    client: DescriptClient
    registry: DriveRegistry
    timing: Timing
    name_of: NameOf = lambda address, intent: None
    _details: dict[str, ProjectDetails] = field(default_factory=dict)
    _forbidden: set[str] = field(default_factory=set)

    def verdicts(
        self,
        doc: StateDocument,
        intents: list[tuple[str, Intent]],
        history: list[Job] | None = None,
        as_of: float | None = None,
    ) -> dict[str, Verdict]:
        """A verdict for each (address, intent), by intent id. `history`: a listing the caller
        read that covers every intent's window (else one is read); `as_of`: the server time
        taken before that listing's first page was read (the listing is complete up to it)."""
        if not intents:
            return {}
        if as_of is None:
            if history is not None:
                raise ValueError("a history given needs the time it was read at (as_of)")
            as_of = self.client.clock.now() - self.client.clock.error
        if history is None:
            oldest = min(window(i, self.timing)[0] for _, i in intents)
            types = {i.job_type for _, i in intents}
            job_type = next(iter(types)) if len(types) == 1 else None
            history = history_since(self.client, oldest - 1, job_type)
        excluded = frozenset(doc.known_job_ids() | self.registry.recorded_jobs())
        base = Evidence(
            history=history,
            as_of=as_of,
            excluded=excluded,
            known_projects=known_projects(doc),
            salt=doc.salt,
        )
        projects_api = self.client.capabilities().has(Feature.PROJECTS)
        out: dict[str, Verdict] = {}
        for address, intent in intents:
            evidence = base
            if projects_api:
                evidence = replace(
                    base,
                    details=self._details_for(intent, base),
                    named=self._named(address, intent),
                )
                evidence = replace(evidence, forbidden=frozenset(self._forbidden))
            out[intent.intent_id] = resolve(intent, evidence, self.timing)
        return out

    def _details_for(self, intent: Intent, base: Evidence) -> dict[str, ProjectDetails]:
        if not is_create(intent):
            return {}
        found: dict[str, ProjectDetails] = {}
        for job in candidates(intent, base, self.timing):
            project_id = job.project_id
            if not project_id:
                continue
            if project_id not in self._details and project_id not in self._forbidden:
                try:
                    self._details[project_id] = self.client.get_project(project_id)
                except Forbidden:
                    self._forbidden.add(project_id)  # another user's: never this token's
                except NotFound:
                    pass  # not readable yet (a lagging listing): asked again next round
            if project_id in self._details:
                found[project_id] = self._details[project_id]
        return found

    def _named(self, address: str, intent: Intent) -> list[ProjectSummary] | None:
        name = self.name_of(address, intent) if is_create(intent) else None
        if name is None:
            return None
        start, end = window(intent, self.timing)
        # Only the token's own user's projects: a project another user made cannot be ours.
        page = self.client.list_projects(
            name=name, created_after=start - 1, created_before=end + 1, created_by="me"
        )
        return [p for p in page.data if p.name == name]
