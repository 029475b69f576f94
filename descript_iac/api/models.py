"""Typed requests and responses of the Descript API, as its docs describe them.

Responses keep unknown fields (`extra="allow"`) and enum-like fields are plain strings with the
known values named in constants: the real API is evolving, and a new field or state must not
crash a plan. Written independently of `descript_iac.emulator` on purpose (see STYLE.md).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from descript_iac.timing import FINISHED_STATES

# The numbers of a job's result, checked where they enter (issue #27): finite, not negative,
# below a bound no real job reaches. A bad one is dropped (unknown) and noted once in
# `REFUSED_NUMBERS`, which the CLI reports; it never crashes a run or blocks a state write.
RESULT_NUMBERS = {"ai_credits_used": 1e7, "media_seconds_used": 1e8}
MEDIA_NUMBERS = {"duration_seconds": 1e7}
REFUSED_NUMBERS: list[str] = []


def _checked_numbers(job_id: object, where: str, data: dict[str, Any], bounds: dict[str, float]):  # type: ignore[no-untyped-def]
    for key, bound in bounds.items():
        if key not in data or data[key] is None:
            continue
        value = data[key]
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok and not (math.isfinite(value) and 0 <= value <= bound):
            ok = False
        if not ok:
            note = f"job {job_id}: {where}{key} = {value!r} from the API is not a sane number"
            if note not in REFUSED_NUMBERS:
                REFUSED_NUMBERS.append(note)
            # Unknown, and marked so: the state records it as unknown, never as 0.
            refused = [*data.get("refused_numbers", []), key]
            data = {**data, key: None, "refused_numbers": refused}
    return data


# An id from the API goes into a URL path, a file name and the state: it must look like one
# (Descript's are UUIDs). Anything else (a path, a query, an escape sequence) is refused where
# it enters, as an unreadable reply (issue #21).
Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")]

IMPORT_JOB = "import/project_media"
AGENT_JOB = "agent"
PUBLISH_JOB = "publish"  # 2026 API
JOB_TYPES = (IMPORT_JOB, AGENT_JOB, PUBLISH_JOB)


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def body(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class _Response(BaseModel):
    model_config = ConfigDict(extra="allow")


# --- requests --------------------------------------------------------------------------------


class UrlMediaRequest(_Request):
    url: str
    language: str | None = None


class TrackRequest(_Request):
    media: str
    offset: float | None = None


class SequenceRequest(_Request):
    tracks: list[TrackRequest]


class ClipRequest(_Request):
    media: str


class CompositionRequest(_Request):
    name: str
    clips: list[ClipRequest]
    width: int | None = None
    height: int | None = None
    fps: float | None = None


class ImportRequest(_Request):
    project_id: str | None = None
    project_name: str | None = None
    team_access: str | None = None
    folder_name: str | None = None  # 2026 API: where a new project is placed ("Clients/Acme")
    add_media: dict[str, UrlMediaRequest | SequenceRequest] = Field(default_factory=dict)
    add_compositions: list[CompositionRequest] = Field(default_factory=list)
    callback_url: str | None = None


class AgentRequest(_Request):
    prompt: str
    project_id: str | None = None
    project_name: str | None = None
    composition_id: str | None = None
    model: str | None = None
    team_access: str | None = None
    callback_url: str | None = None


class PublishRequest(_Request):
    """`POST /v1/jobs/publish` (2026 API): render one composition to a share page."""

    project_id: str
    composition_id: str | None = None
    media_type: str | None = None  # Video | Audio
    resolution: str | None = None  # 480p | 720p | 1080p | 1440p | 4K (Video only)
    access_level: str | None = None  # public | unlisted | drive | private
    callback_url: str | None = None


class StartOffset(_Request):
    seconds: float


class SchemaFile(_Request):
    uri: str
    name: str | None = None
    start_offset: StartOffset | None = None


class ProjectSchema(_Request):
    schema_version: str = "1.0.0"
    source_id: str | None = None
    files: list[SchemaFile]


class EditInDescriptRequest(_Request):
    partner_drive_id: str
    project_schema: ProjectSchema


# --- responses -------------------------------------------------------------------------------


class JobCreated(_Response):
    job_id: Id
    drive_id: Id | None = None
    project_id: Id | None = None
    project_url: str | None = None


class Progress(_Response):
    label: str | None = None
    percent: float | None = None
    last_update_at: datetime | None = None
    composition_id: str | None = None  # publish jobs, when known


class MediaStatus(_Response):
    status: str
    duration_seconds: float | None = None
    error_message: str | None = None


class CreatedComposition(_Response):
    id: str
    name: str | None = None


class JobResult(_Response):
    status: str
    error_message: str | None = None
    media_seconds_used: float | None = None


class ImportResult(JobResult):
    media_status: dict[str, MediaStatus] = Field(default_factory=dict)
    created_compositions: list[CreatedComposition] = Field(default_factory=list)


class AgentResult(JobResult):
    agent_response: str | None = None
    project_changed: bool | None = None
    ai_credits_used: float | None = None


class PublishResult(JobResult):
    """A publish job's result. `download_url` is signed and short-lived: never stored."""

    composition_id: str | None = None
    share_url: str | None = None
    download_url: str | None = None
    download_url_expires_at: datetime | None = None


class Job(_Response):
    """A job's status; `result` is typed by `job_type` (generic for unknown types)."""

    job_id: Id
    job_type: str
    job_state: str
    created_at: datetime | None = None
    stopped_at: datetime | None = None
    drive_id: Id | None = None
    project_id: Id | None = None
    project_url: str | None = None
    progress: Progress | None = None
    result: ImportResult | AgentResult | PublishResult | JobResult | None = None

    @model_validator(mode="before")
    @classmethod
    def _typed_result(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("result"), dict):
            job_id = data.get("job_id")
            result = _checked_numbers(job_id, "", data["result"], RESULT_NUMBERS)
            statuses = result.get("media_status")
            if isinstance(statuses, dict):
                result = {
                    **result,
                    "media_status": {
                        name: _checked_numbers(job_id, f"media {name}: ", m, MEDIA_NUMBERS)
                        if isinstance(m, dict)
                        else m
                        for name, m in statuses.items()
                    },
                }
            data = {**data, "result": result}
            kinds: dict[str, type[JobResult]] = {
                IMPORT_JOB: ImportResult,
                AGENT_JOB: AgentResult,
                PUBLISH_JOB: PublishResult,
            }
            kind = kinds.get(data.get("job_type", ""), JobResult)
            data = {**data, "result": kind.model_validate(data["result"])}
        return data

    @property
    def finished(self) -> bool:
        return self.job_state in FINISHED_STATES

    @property
    def import_result(self) -> ImportResult | None:
        return self.result if isinstance(self.result, ImportResult) else None

    @property
    def agent_result(self) -> AgentResult | None:
        return self.result if isinstance(self.result, AgentResult) else None

    @property
    def publish_result(self) -> PublishResult | None:
        return self.result if isinstance(self.result, PublishResult) else None


class Pagination(_Response):
    next_cursor: str | None = None


class JobList(_Response):
    data: list[Job]
    pagination: Pagination = Field(default_factory=Pagination)


class StatusReply(_Response):
    status: str


class ImportUrl(_Response):
    url: str


class Publisher(_Response):
    first_name: str | None = None
    last_name: str | None = None


class PublishedMetadata(_Response):
    title: str | None = None
    duration_seconds: float | None = None
    duration_formatted: str | None = None
    published_at: datetime | None = None
    published_by: Publisher | None = None


class PublishedProject(_Response):
    project_id: str
    publish_type: str | None = None
    privacy: str | None = None
    metadata: PublishedMetadata | None = None
    subtitles: str | None = None
    # 2026 API: a signed, short-lived link to the file. Never shown, written or stored.
    download_url: str | None = None
    download_url_expires_at: datetime | None = None


class ProjectSummary(_Response):
    """One entry of `GET /v1/projects` (2026 API)."""

    id: str
    name: str
    created_at: datetime | None = None
    updated_at: datetime | None = None
    folder_path: str | None = None


class ProjectList(_Response):
    data: list[ProjectSummary]
    pagination: Pagination = Field(default_factory=Pagination)


class MediaFile(_Response):
    type: str | None = None
    duration: float | None = None


class ProjectComposition(_Response):
    id: str
    name: str
    duration: float | None = None
    media_type: str | None = None


class ProjectDetails(_Response):
    """`GET /v1/projects/{id}` (2026 API): what a project holds, by display path and name."""

    id: str
    name: str
    drive_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    folder_path: str | None = None
    media_files: dict[str, MediaFile] = Field(default_factory=dict)
    compositions: list[ProjectComposition] = Field(default_factory=list)
