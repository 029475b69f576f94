"""Gather the evidence about intents in doubt: all the I/O around the pure verdict (resolve.py).

One round reads the job history once from the oldest intent's window, the details of candidate
projects and the projects named like the intents' where the API has the projects endpoints, and
every job id recorded by anyone on the drive; then each intent gets its verdict.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import msgspec

from descript_iac.api import DescriptClient
from descript_iac.api.capabilities import Feature
from descript_iac.api.clock import ServerClock
from descript_iac.api.errors import Forbidden, NotFound
from descript_iac.api.models import Job, ProjectDetails, ProjectSummary
from descript_iac.apply.resolve import (
    Evidence,
    Verdict,
    candidates,
    complete_at,
    is_create,
    resolve,
    window,
)
from descript_iac.config.desired import Workspace
from descript_iac.plan.digests import name_digest
from descript_iac.state.document import Intent, ProjectState, StateDocument
from descript_iac.state.drive import DriveRegistry
from descript_iac.timing import Timing, history_floor

PAGE = 100
LAG_MARGIN = 5.0  # added to the longest lag seen before a window is judged on it
LAG_NOISE = 5.0  # a job missing for less than this after its POST measures no lag
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


def history_since(
    client: DescriptClient,
    since: float,
    job_type: str | None = None,
    project_id: str | None = None,
) -> list[Job]:
    """Every job created since `since` (within the API's 30-day history), newest first; of one
    type, or on one project, when given."""
    after = max(since, history_floor(client.clock.now()))
    return list(
        client.iter_jobs(limit=PAGE, created_after=after, job_type=job_type, project_id=project_id)
    )


def known_projects(doc: StateDocument) -> frozenset[str]:
    """Every project this workspace made, current, orphaned or forgotten."""
    ids: set[str] = set()
    for project in [*doc.projects.values(), *(p for h in doc.forgotten.values() for p in h)]:
        if project.project_id:
            ids.add(project.project_id)
        ids.update(o.project_id for o in project.orphans)
    return frozenset(ids)


def recorded_jobs(project: ProjectState) -> list[tuple[str, str, float, str]]:
    """(job id, type, send time, state) of each job the project's record holds."""
    out = []
    if project.import_ is not None:
        record = project.import_
        out.append((record.job_id, "import/project_media", record.sent_at, record.job_state))
    for step in project.steps:
        if step.job_id:  # a step marked applied by `import` may name no job
            out.append((step.job_id, "agent", step.sent_at, step.job_state))
    for publish in project.publishes.values():
        out.append((publish.job_id, "publish", publish.sent_at, publish.job_state))
    return out


def in_force(timing: Timing, clock: ServerClock) -> Timing:
    """The settings, with what was measured so far: the offset between the `Date` and job
    clocks (the bound before any sample), and a history seen lagging longer than allowed (no
    window is judged on less than that)."""
    skew = max(timing.clock_skew, clock.job_skew)
    seen = clock.history_lag_seen
    lag = max(timing.history_lag, seen + LAG_MARGIN if seen else 0.0)
    return msgspec.structs.replace(timing, clock_skew=skew, history_lag=lag)


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
        timing = self._timing()
        if as_of is None:
            if history is not None:
                raise ValueError("a history given needs the time it was read at (as_of)")
            as_of = self.client.clock.earliest()
        if history is None:
            listings = self._read(doc, intents, timing, as_of)
        else:
            listings = {i.intent_id: history for _, i in intents}
        for listing in {id(x): x for x in listings.values()}.values():
            self._sample_offsets(listing)
        timing = self._timing()
        excluded = frozenset(doc.known_job_ids() | self.registry.recorded_jobs())
        mine = known_projects(doc)
        projects_api = self.client.capabilities().has(Feature.PROJECTS)
        out: dict[str, Verdict] = {}
        for address, intent in intents:
            base = Evidence(
                history=listings[intent.intent_id],
                as_of=as_of,
                excluded=excluded,
                known_projects=mine,
                salt=doc.salt,
            )
            evidence = base
            if projects_api:
                # The projects named as the intent's count only once the evidence is complete
                # (resolve.py reads them after that alone): not asked for before.
                complete = as_of >= complete_at(intent, timing)
                evidence = replace(
                    base,
                    details=self._details_for(intent, base),
                    named=self._named(address, intent) if complete else None,
                )
                evidence = replace(evidence, forbidden=frozenset(self._forbidden))
            out[intent.intent_id] = resolve(intent, evidence, timing)
        return out

    def _read(
        self,
        doc: StateDocument,
        intents: list[tuple[str, Intent]],
        timing: Timing,
        as_of: float,
    ) -> dict[str, list[Job]]:
        """The listings the intents are judged on, by intent id: the job history of each
        project a step, update or publish in doubt is on (its job can only be there: a page, for
        the few jobs of one project) where that reads fewer pages and measures the same lag as
        one shared listing; else one listing since the oldest intent's window."""
        out: dict[str, list[Job]] = {}
        groups, since = self._by_project(doc, intents, timing, as_of)
        for project_id, group in groups.items():
            # From where the shared listing would start: it reaches back to the project's own
            # recent jobs as that one does, so their absence measures the lag all the same.
            listing = history_since(self.client, since, project_id=project_id)
            self._measure_lag(doc, listing, since, None, as_of, project_id)
            out.update((i.intent_id, listing) for i in group)
        rest = [(a, i) for a, i in intents if i.intent_id not in out]
        if rest:
            since, job_type = self._shared_since(doc, rest, timing, as_of)
            listing = history_since(self.client, since, job_type)
            self._measure_lag(doc, listing, since, job_type, as_of)
            out.update((i.intent_id, listing) for _, i in rest)
        return out

    def _shared_since(
        self,
        doc: StateDocument,
        intents: list[tuple[str, Intent]],
        timing: Timing,
        as_of: float,
    ) -> tuple[float, str | None]:
        """Where one listing for all `intents` starts, and its job type filter (if one)."""
        oldest = min(window(i, timing)[0] for _, i in intents)
        types = {i.job_type for _, i in intents}
        job_type = next(iter(types)) if len(types) == 1 else None
        # The listing also reaches back to this workspace's recent jobs of the type (a few
        # more on a page), whose absence measures how far the history lags.
        lookback = as_of - timing.commit_span - 2 * timing.history_lag
        recent = self._recent_sends(doc, job_type, lookback)
        return min([oldest, *(t - timing.clock_skew for t in recent)]) - 1, job_type

    def _by_project(
        self,
        doc: StateDocument,
        intents: list[tuple[str, Intent]],
        timing: Timing,
        as_of: float,
    ) -> tuple[dict[str, list[Intent]], float]:
        """The intents on a known project (steps, updates, publishes), grouped by it, when a
        listing per project costs no more requests than a shared one is expected to (a page per
        100 of this workspace's jobs in its range) and misses no job whose absence the shared
        one would measure as lag (none of another project); and where the shared listing of
        them would start. No groups otherwise: the shared listing serves them all."""
        groups: dict[str, list[Intent]] = {}
        for _, intent in intents:
            if intent.project_id is None:
                continue
            groups.setdefault(intent.project_id, []).append(intent)
        if not groups:
            return {}, 0.0
        on_project = [(a, i) for a, i in intents if i.project_id is not None]
        since, job_type = self._shared_since(doc, on_project, timing, as_of)
        skew = self.client.clock.job_skew
        in_range = 0
        for project in doc.projects.values():
            for _, kind, sent_at, _ in recorded_jobs(project):
                if job_type is not None and kind != job_type:
                    continue
                if sent_at + skew < since:
                    continue
                in_range += 1
                if self._measures_lag(sent_at, since, as_of) and project.project_id not in groups:
                    return {}, since  # the shared listing would measure the lag on it
        if len(groups) > max(1, math.ceil(in_range / PAGE)):
            return {}, since
        return groups, since

    def _timing(self) -> Timing:
        return in_force(self.timing, self.client.clock)

    def _recent_sends(self, doc: StateDocument, job_type: str | None, after: float) -> list[float]:
        return [
            sent_at
            for project in doc.projects.values()
            for _, kind, sent_at, _ in recorded_jobs(project)
            if sent_at > after and (job_type is None or kind == job_type)
        ]

    def _measure_lag(
        self,
        doc: StateDocument,
        history: list[Job],
        since: float,
        job_type: str | None,
        as_of: float,
        project_id: str | None = None,
    ) -> None:
        """Jobs this workspace recorded (their replies were read: they exist) that the complete
        listing since `since` (of one project's jobs, with `project_id`) does not show yet: the
        history lags at least that long."""
        listed = {j.job_id for j in history}
        for project in doc.projects.values():
            if project_id is not None and project.project_id != project_id:
                continue
            for job_id, kind, sent_at, _ in recorded_jobs(project):
                if job_id in listed or (job_type is not None and kind != job_type):
                    continue
                if self._measures_lag(sent_at, since, as_of):
                    self.client.clock.observe_lag(as_of - sent_at)

    def _measures_lag(self, sent_at: float, since: float, as_of: float) -> bool:
        """Whether a job this workspace sent at `sent_at` measures the history's lag by its
        absence from a complete listing since `since` read at `as_of` (`_measure_lag`; a job
        sent moments ago may be missing for its POST's own trip: not a lag)."""
        return sent_at - self.client.clock.job_skew > since and as_of - sent_at > LAG_NOISE

    def _sample_offsets(self, history: list[Job]) -> None:
        """Jobs this run sent and got a reply for, seen in the listing: samples of the offset."""
        for job in history:
            if job.created_at is not None:
                self.client.clock.observe_job(job.job_id, job.created_at.timestamp())

    def _details_for(self, intent: Intent, base: Evidence) -> dict[str, ProjectDetails]:
        if not is_create(intent):
            return {}
        found: dict[str, ProjectDetails] = {}
        for job in candidates(intent, base, self._timing()):
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
        start, end = window(intent, self._timing())
        # Only the token's own user's projects: a project another user made cannot be ours.
        page = self.client.list_projects(
            name=name, created_after=start - 1, created_before=end + 1, created_by="me"
        )
        return [p for p in page.data if p.name == name]


def job_order(job: Job) -> tuple[float, str]:
    """Jobs in the order they were made (server time), then by id."""
    return (job.created_at.timestamp() if job.created_at else 0.0, job.job_id)
