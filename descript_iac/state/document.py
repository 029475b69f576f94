"""The state document: the only full record of what descript-iac made in Descript.

The Descript API cannot read, update or delete a project, so this document must be exact. It
holds ids, results and digests; never a secret (values from the environment and URL query
strings appear only as salted digests computed by the plan).
"""

from __future__ import annotations

import uuid
from typing import Any, Literal, TypeVar

import msgspec
from msgspec import field

from descript_iac.errors import StateError
from descript_iac.state import schema_errors
from descript_iac.timing import UNSYNCED_ERROR

# 2: intents keep their send time's error; steps their earlier jobs. 3: the non-secret values a
# reviewer needs (names, URLs without query strings, prompts), imported projects, accepted drift.
# 4: compact canonical JSON, one project per line (state/codec.py). Older formats are read (the
# new fields are empty) and written back as the current one.
FORMAT_VERSION = 4


class _Record(msgspec.Struct, forbid_unknown_fields=True):
    """A record of the document: a msgspec struct (issue #13: a 10,000-project state is read in
    a fifth of the time pydantic models took, in half the memory). Every subclass is declared
    with `kw_only=True` (msgspec does not inherit it) and its fields in sorted order, as the
    canonical JSON has them: the encoder (codec.py) writes them in declaration order.

    A struct does not check assignments: `check_project` (after each journal event) and the
    write (codec.py decodes what it is about to store) refuse a record of the wrong type."""

    def to_json(self) -> dict[str, Any]:
        """The record's JSON form (dicts, lists, strings, numbers), as stored."""
        data: dict[str, Any] = msgspec.to_builtins(self)
        return data

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        """Records inside pydantic models (journal events): validated by msgspec, strictly, and
        serialized to their JSON form."""
        from pydantic_core import core_schema

        return core_schema.no_info_plain_validator_function(
            cls._validated,
            serialization=core_schema.plain_serializer_function_ser_schema(msgspec.to_builtins),
        )

    @classmethod
    def _validated(cls, value: Any) -> Any:
        if isinstance(value, cls):
            return value
        return msgspec.convert(value, cls)


class MediaRecord(_Record, kw_only=True):
    duration_seconds: float | None = None
    error_message: str | None = None
    identity: str  # salted digest of scheme://host/path (+ revision, language) or of the tracks
    status: str | None = None  # success | failed, once the import stopped


class CompositionRecord(_Record, kw_only=True):
    id: str
    name: str


class ShownFacets(_Record, kw_only=True):
    """The values behind the facet digests that a reviewer may see (a plan's old -> new).

    Never a secret: a value from the environment is None, a URL keeps no query string."""

    compositions: dict[str, str] = field(default_factory=dict)  # name -> clips and size
    media: dict[str, str | None] = field(default_factory=dict)  # name -> URL or tracks
    name: str | None = None
    team_access: str | None = None


class ImportFacets(_Record, kw_only=True):
    """Digests of the import-time inputs, one per facet so a plan can say what changed."""

    compositions: dict[str, str] = field(default_factory=dict)  # composition name -> digest
    folder: str | None = None  # digest of the drive folder a new project is placed in
    media: dict[str, str] = field(default_factory=dict)  # media name -> identity digest
    name: str
    shown: ShownFacets | None = None  # None in states older than format 3
    team_access: str


class ImportRecord(_Record, kw_only=True):
    compositions: list[CompositionRecord] = field(default_factory=list)
    created_at: str | None = None
    error_message: str | None = None
    job_id: str
    job_state: str = "queued"
    media: dict[str, MediaRecord] = field(default_factory=dict)
    media_seconds_used: float | None = 0.0  # None: unknown (the API's number was not sane)
    sent_at: float = 0.0
    status: str | None = None  # success | partial | error, once stopped
    stopped_at: str | None = None
    # Earlier imports into the same project (capability import-into-existing).
    updates: list[str] = field(default_factory=list)


StepOrigin = Literal["apply", "import", "rebuild"]


class StepRecord(_Record, kw_only=True):
    agent_response: str | None = None
    ai_credits_used: float | None = 0.0  # None: unknown (the API's number was not sane)
    attempts: int = 1
    created_at: str | None = None
    digest: str  # salted digest of prompt and model
    earlier_job_ids: list[str] = field(default_factory=list)  # failed attempts, newest last
    error_message: str | None = None
    id: str
    # None: marked applied by `import --mark-applied` without a job the history could name.
    job_id: str | None
    job_state: str = "queued"
    media_seconds_used: float | None = 0.0  # None: unknown
    model: str | None = None
    origin: StepOrigin = "apply"  # how the record was made: by apply, import or state rebuild
    prompt: str | None = None  # what ran (None: from the environment, or before format 3)
    sent_at: float = 0.0
    status: str | None = (
        None  # success | error (| unknown: abandoned past the history), once stopped
    )
    stopped_at: str | None = None


class ExternalJob(_Record, kw_only=True):
    """A job on a managed project that descript-iac did not send (run by hand, or by another
    tool), accepted into the state (`apply --refresh`, `import`): never adopted, not drift."""

    created_at: str | None = None
    job_id: str
    job_type: str
    status: str | None = None


class PublishSettings(_Record, kw_only=True):
    """What a publish job was asked for (plain values: none of them is a secret)."""

    access_level: str | None = None
    media_type: str = "Video"
    resolution: str | None = None

    def describe(self) -> str:
        parts = [self.media_type, self.resolution, self.access_level]
        return " ".join(p for p in parts if p) or "defaults"


class PublishRecord(_Record, kw_only=True):
    """The latest publish of one composition. Its `share_url` stays the same on a republish;
    the signed `download_url` of the job's result is never recorded."""

    composition: str
    composition_id: str | None = None
    # The project's jobs (import, steps) that had run when it was published: a later step makes
    # the share page stale, and the plan publishes again.
    content: list[str] = field(default_factory=list)
    created_at: str | None = None
    earlier_job_ids: list[str] = field(default_factory=list)
    error_message: str | None = None
    job_id: str
    job_state: str = "queued"
    sent_at: float = 0.0
    settings: PublishSettings
    share_url: str | None = None
    status: str | None = None  # success | error, once stopped
    stopped_at: str | None = None


class OrphanRecord(_Record, kw_only=True):
    job_ids: list[str] = field(default_factory=list)
    project_id: str
    project_url: str | None = None
    reason: str
    replaced_at: str


IntentAction = Literal["create", "update", "step", "publish"]


class Intent(_Record, kw_only=True):
    """A POST about to be sent (write-ahead), until its job id is known.

    `sent_at`: when the request that may have committed the job was sent (server time, see
    timing.py), and `clock_error` how far off that time may be; updated before every attempt.
    `job_type`, `media_names`, `composition_names`, `project_id`: what the job history can show
    about the job, to find it if the reply was lost. `facets`, `media`, `step_*`, `replaces`:
    records to write once the job is known. `composition`, `composition_id`: a publish, or an
    agent job aimed at one composition."""

    action: IntentAction
    attempts: int = 0
    clock_error: float = UNSYNCED_ERROR
    # The offset measured between the API's `Date` and job clocks when it was sent (None: none
    # measured yet, or an older release's): a later run never looks in a narrower window.
    clock_skew: float | None = None
    # The --commit-span and --history-lag in force when it was sent (None: an older release's):
    # a later run never judges it with shorter ones.
    commit_span: float | None = None
    composition: str | None = None
    composition_id: str | None = None
    composition_names: list[str] = field(default_factory=list)
    facets: ImportFacets | None = None
    fingerprint: str
    history_lag: float | None = None
    intent_id: str
    job_type: str
    media: dict[str, str] = field(default_factory=dict)  # name -> identity, for the import
    media_names: list[str] = field(default_factory=list)
    outcome: Literal["sending", "unknown"] = "sending"
    project_id: str | None = None  # for agent jobs on an existing project
    publish: PublishSettings | None = None
    reason: str | None = None
    replaces: bool = False
    sent_at: float
    step_digest: str | None = None
    step_id: str | None = None
    step_model: str | None = None
    step_prompt: str | None = None  # shown values of the step (None: a secret)


class Quarantine(_Record, kw_only=True):
    candidates: list[str] = field(default_factory=list)
    intent_id: str | None = None
    reason: str


class Totals(_Record, kw_only=True):
    ai_credits: float = 0.0
    media_seconds: float = 0.0
    unknown: int = 0  # jobs whose spend is unknown (a number from the API was not sane)


class ProjectState(_Record, kw_only=True):
    # Drift accepted by a person (`apply --refresh`): keys of the differences not reported again.
    accepted_drift: list[str] = field(default_factory=list)
    created_by: Literal["import", "agent"] | None = None
    drive_id: str | None = None
    external_jobs: list[ExternalJob] = field(default_factory=list)
    facets: ImportFacets | None = None
    import_: ImportRecord | None = field(default=None, name="import")
    intents: list[Intent] = field(default_factory=list)
    # Compositions of a project made outside descript-iac (a one-off agent job on it).
    linked_compositions: list[CompositionRecord] = field(default_factory=list)
    orphans: list[OrphanRecord] = field(default_factory=list)
    project_id: str | None = None
    project_url: str | None = None
    publishes: dict[str, PublishRecord] = field(default_factory=dict)  # by composition name
    quarantine: Quarantine | None = None
    # Jobs on this project that `state recover` found in a journal and that none of the records
    # above accounts for (e.g. a step run twice by two runs): kept so they are never adopted.
    recovered_job_ids: list[str] = field(default_factory=list)
    steps: list[StepRecord] = field(default_factory=list)
    tainted: str | None = None
    totals: Totals = field(default_factory=Totals)

    def step(self, step_id: str) -> StepRecord | None:
        return next((s for s in self.steps if s.id == step_id), None)

    def job_ids(self) -> set[str]:
        ids = {s.job_id for s in self.steps if s.job_id} | set(self.recovered_job_ids)
        ids.update(j.job_id for j in self.external_jobs)
        for step in self.steps:
            ids.update(step.earlier_job_ids)
        for orphan in self.orphans:
            ids.update(orphan.job_ids)
        if self.import_:
            ids.add(self.import_.job_id)
            ids.update(self.import_.updates)
        for publish in self.publishes.values():
            ids.add(publish.job_id)
            ids.update(publish.earlier_job_ids)
        return ids

    def composition_ids(self) -> dict[str, str]:
        """Composition name -> id, as the import created them (or as linked)."""
        found = {c.name: c.id for c in self.linked_compositions}
        if self.import_ is not None:
            found.update({c.name: c.id for c in self.import_.compositions})
        return found

    def content(self) -> list[str]:
        """The jobs that made the project what it is now: its import and its successful steps."""
        ids = [self.import_.job_id] if self.import_ is not None else []
        return ids + [s.job_id for s in self.steps if s.status == "success" and s.job_id]


def _new_salt() -> str:
    import secrets  # (a new state only: a plan of a known one never imports it)

    return secrets.token_hex(16)


class StateDocument(_Record, kw_only=True):
    format_version: int = FORMAT_VERSION
    lineage: str = field(default_factory=lambda: str(uuid.uuid4()))
    serial: int = 0
    salt: str = field(default_factory=_new_salt)
    # The journal last folded into this document: a journal is folded once, never twice.
    folded_journal: str | None = None
    projects: dict[str, ProjectState] = field(default_factory=dict)
    forgotten: dict[str, list[ProjectState]] = field(default_factory=dict)

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


R = TypeVar("R", bound=_Record)


def copied(record: R) -> R:
    """A deep copy of `record` (through its JSON form, so that it is also checked)."""
    return msgspec.convert(msgspec.to_builtins(record), type(record))


def check_project(address: str, project: ProjectState) -> None:
    """Refuse a project record holding a value of the wrong type (a struct does not check
    assignments): a `StateError` naming the field, before it can reach the stored state."""
    try:
        msgspec.convert(msgspec.to_builtins(project), ProjectState)
    except msgspec.ValidationError as exc:
        where, message = schema_errors.located(project.to_json(), ProjectState, exc)
        raise StateError(f"{address}: {where}: {message}") from None


# Keys a stored document must have: a file without them is not a state (a `{}` left by an editor,
# a truncated copy) and is refused, never taken for a new empty state.
# A backup or an older commit lacks what later runs recorded: their jobs would be sent again.
STALE = (
    "An older copy lacks the jobs recorded since it was written, and apply would send them "
    "again: `descript-iac plan --refresh` lists the jobs in the history it does not know."
)
REQUIRED_KEYS = ("format_version", "lineage", "serial", "salt", "projects")


def document_from_json(data: Any, where: str, backup: str = "the backup") -> StateDocument:
    """Validate a stored document; anything but a complete, known-format state is refused."""
    restore = f"It was not changed. Restore it from {backup} or from version control. {STALE}"
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
        doc = msgspec.convert(data, StateDocument)  # strictly: "3" is not 3
    except msgspec.ValidationError as exc:
        path, message = schema_errors.located(data, StateDocument, exc)
        raise StateError(
            f"{where}: the state is not valid ({path}: {message}). {restore}"
        ) from None
    doc.format_version = FORMAT_VERSION
    return doc
