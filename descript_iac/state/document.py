"""The state document: the only full record of what descript-iac made in Descript.

The Descript API cannot read, update or delete a project, so this document must be exact. It
holds ids, results and digests; never a secret (values from the environment and URL query
strings appear only as salted digests computed by the plan).
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from descript_iac.errors import StateError
from descript_iac.timing import UNSYNCED_ERROR

# 2: intents keep their send time's error; steps their earlier jobs.
# 3: compact canonical JSON, one project per line (state/codec.py); 1 and 2 are still read.
FORMAT_VERSION = 3


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class MediaRecord(_Record):
    identity: str  # salted digest of scheme://host/path (+ revision, language) or of the tracks
    status: str | None = None  # success | failed, once the import stopped
    duration_seconds: float | None = None
    error_message: str | None = None


class CompositionRecord(_Record):
    id: str
    name: str


class ImportFacets(_Record):
    """Digests of the import-time inputs, one per facet so a plan can say what changed."""

    name: str
    team_access: str
    media: dict[str, str] = Field(default_factory=dict)  # media name -> identity digest
    compositions: dict[str, str] = Field(default_factory=dict)  # composition name -> digest


class ImportRecord(_Record):
    job_id: str
    job_state: str = "queued"
    status: str | None = None  # success | partial | error, once stopped
    error_message: str | None = None
    media: dict[str, MediaRecord] = Field(default_factory=dict)
    compositions: list[CompositionRecord] = Field(default_factory=list)
    media_seconds_used: float = 0.0
    sent_at: float = 0.0
    created_at: str | None = None
    stopped_at: str | None = None
    # Earlier imports into the same project (capability import-into-existing).
    updates: list[str] = Field(default_factory=list)


class StepRecord(_Record):
    id: str
    digest: str  # salted digest of prompt and model
    job_id: str
    job_state: str = "queued"
    status: str | None = (
        None  # success | error (| unknown: abandoned past the history), once stopped
    )
    error_message: str | None = None
    agent_response: str | None = None
    ai_credits_used: float = 0.0
    media_seconds_used: float = 0.0
    attempts: int = 1
    earlier_job_ids: list[str] = Field(default_factory=list)  # failed attempts, newest last
    sent_at: float = 0.0
    created_at: str | None = None
    stopped_at: str | None = None


class OrphanRecord(_Record):
    project_id: str
    project_url: str | None = None
    replaced_at: str
    reason: str
    job_ids: list[str] = Field(default_factory=list)


IntentAction = Literal["create", "update", "step"]


class Intent(_Record):
    """A POST about to be sent (write-ahead), until its job id is known."""

    intent_id: str
    action: IntentAction
    step_id: str | None = None
    fingerprint: str
    # When the request that may have committed the job was sent (server time, see timing.py),
    # and how far off that time may be. Updated before every attempt.
    sent_at: float
    clock_error: float = UNSYNCED_ERROR
    attempts: int = 0
    # What the job history can show about the job, to find it if the reply was lost.
    job_type: str
    media_names: list[str] = Field(default_factory=list)
    composition_names: list[str] = Field(default_factory=list)
    project_id: str | None = None  # for agent jobs on an existing project
    # Records to write once the job is known.
    facets: ImportFacets | None = None
    media: dict[str, str] = Field(default_factory=dict)  # name -> identity, for the import
    step_digest: str | None = None
    replaces: bool = False
    outcome: Literal["sending", "unknown"] = "sending"
    reason: str | None = None


class Quarantine(_Record):
    reason: str
    candidates: list[str] = Field(default_factory=list)
    intent_id: str | None = None


class Totals(_Record):
    media_seconds: float = 0.0
    ai_credits: float = 0.0


class ProjectState(_Record):
    project_id: str | None = None
    drive_id: str | None = None
    project_url: str | None = None
    created_by: Literal["import", "agent"] | None = None
    facets: ImportFacets | None = None
    import_: ImportRecord | None = Field(default=None, alias="import")
    steps: list[StepRecord] = Field(default_factory=list)
    totals: Totals = Field(default_factory=Totals)
    orphans: list[OrphanRecord] = Field(default_factory=list)
    intents: list[Intent] = Field(default_factory=list)
    tainted: str | None = None
    quarantine: Quarantine | None = None
    # Jobs on this project that `state recover` found in a journal and that none of the records
    # above accounts for (e.g. a step run twice by two runs): kept so they are never adopted.
    recovered_job_ids: list[str] = Field(default_factory=list)

    model_config = ConfigDict(extra="forbid", validate_assignment=True, populate_by_name=True)

    def step(self, step_id: str) -> StepRecord | None:
        return next((s for s in self.steps if s.id == step_id), None)

    def job_ids(self) -> set[str]:
        ids = {s.job_id for s in self.steps} | set(self.recovered_job_ids)
        for step in self.steps:
            ids.update(step.earlier_job_ids)
        for orphan in self.orphans:
            ids.update(orphan.job_ids)
        if self.import_:
            ids.add(self.import_.job_id)
            ids.update(self.import_.updates)
        return ids


class StateDocument(_Record):
    format_version: int = FORMAT_VERSION
    lineage: str = Field(default_factory=lambda: str(uuid.uuid4()))
    serial: int = 0
    salt: str = Field(default_factory=lambda: secrets.token_hex(16))
    # The journal last folded into this document: a journal is folded once, never twice.
    folded_journal: str | None = None
    projects: dict[str, ProjectState] = Field(default_factory=dict)
    forgotten: dict[str, list[ProjectState]] = Field(default_factory=dict)

    def project(self, address: str) -> ProjectState:
        return self.projects.setdefault(address, ProjectState())

    def known_job_ids(self) -> set[str]:
        ids: set[str] = set()
        for project in self.projects.values():
            ids |= project.job_ids()
        for history in self.forgotten.values():
            for project in history:
                ids |= project.job_ids()
        return ids

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


# Keys a stored document must have: a file without them is not a state (a `{}` left by an editor,
# a truncated copy) and is refused, never taken for a new empty state.
REQUIRED_KEYS = ("format_version", "lineage", "serial", "salt", "projects")


def document_from_json(data: Any, where: str, backup: str = "the backup") -> StateDocument:
    """Validate a stored document; anything but a complete, known-format state is refused."""
    restore = f"It was not changed. Restore it from {backup} or from version control."
    if not isinstance(data, dict):
        raise StateError(f"{where}: the state is not a JSON object. {restore}")
    version = data.get("format_version")
    if type(version) is int and version > FORMAT_VERSION:
        raise StateError(
            f"{where}: state format {version} is newer than this descript-iac reads "
            f"({FORMAT_VERSION}); upgrade descript-iac. The state was not changed."
        )
    missing = [key for key in REQUIRED_KEYS if key not in data]
    if missing:
        raise StateError(
            f"{where}: the state lacks {', '.join(missing)}: it is not a complete state "
            f"document. {restore}"
        )
    if type(version) is not int or version < 1:
        raise StateError(
            f"{where}: format_version must be a whole number, not {version!r}. {restore}"
        )
    try:
        doc = StateDocument.model_validate(data, strict=True)  # "3" is not 3
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first["loc"])
        raise StateError(
            f"{where}: the state is not valid ({path}: {first['msg']}). {restore}"
        ) from None
    doc.format_version = FORMAT_VERSION
    return doc
