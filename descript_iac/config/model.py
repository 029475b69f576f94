"""The workspace format as pydantic models: the single source of the JSON Schema.

These models describe one YAML file. `schemas/descript-iac.schema.json` is generated from
`WorkspaceFile` (see `config/schema.py`); a test fails when the checked-in schema drifts.

Every plan builds these models when it starts, so this module does not use `from __future__
import annotations`: pydantic would evaluate each annotation from its text.
"""

from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    WithJsonSchema,
    field_validator,
)

TeamAccess = Literal["edit", "comment", "view", "none"]

ADDRESS_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,99}$"
STEP_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
STATE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
SCHEMA_PATTERN = r"^[a-z_][a-z0-9_]{0,62}$"


# Empty defaults made by Python functions, not by `dict` and `list`: pydantic reads a default
# factory's signature, and a builtin's is parsed from its text by `tokenize`, whose patterns
# cost every plan about 5 ms to compile when it starts.
def _empty_dict() -> dict[str, Any]:
    return {}


def _empty_list() -> list[Any]:
    return []


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_REVISION = "must be a whole number (0 or more) or a non-empty label; bump it to force a re-import"
# What `_revision` accepts, said in the schema: editors flag the rest, and `validate` takes a
# file's verdict from the schema alone (config/validation/schema.py).
_REVISION_SCHEMA = {
    "anyOf": [
        {"type": "integer", "minimum": 0},
        {"type": "string", "minLength": 1},
        {"type": "null"},
    ]
}


class UrlMedia(_Model):
    """A file imported from a public or pre-signed http(s) URL."""

    url: str = Field(
        description="Public or pre-signed http(s) URL. Use ${env:NAME} for pre-signed URLs: "
        "values from the environment are secret and never shown or saved.",
    )
    language: str | None = Field(default=None, description="Transcription language, e.g. 'en'.")
    revision: Annotated[int | str | None, WithJsonSchema(_REVISION_SCHEMA)] = Field(
        default=None,
        description="Bump to force a re-import of the same URL (a changed query string alone "
        "is not a change).",
    )

    @field_validator("revision", mode="before")
    @classmethod
    def _revision(cls, value: Any) -> Any:
        whole = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        label = isinstance(value, str) and value != ""
        if value is not None and not whole and not label:
            raise ValueError(_REVISION)
        return value


# Bounds on numbers: past them a value is a typo (or a hostile file), never a real project.
MAX_OFFSET_SECONDS = 1e6  # 11.5 days into a sequence
MAX_DIMENSION = 16384  # pixels: 4 times the width of 4K
MAX_FPS = 240


class Track(_Model):
    media: str = Field(description="Name of another media item of the same project.")
    offset: float | None = Field(
        default=None,
        ge=0,
        le=MAX_OFFSET_SECONDS,
        allow_inf_nan=False,
        description="Start offset in seconds.",
    )


class SequenceMedia(_Model):
    """A multitrack sequence built from other media items of the project."""

    tracks: list[Track] = Field(min_length=1)


def _media_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        if "tracks" in value and "url" in value:
            return None  # both: reported as mutually exclusive, not as an unknown key
        if "tracks" in value:
            return "tracks"
        if "url" in value:
            return "url"
        return None
    if isinstance(value, (UrlMedia, SequenceMedia)):
        return "tracks" if isinstance(value, SequenceMedia) else "url"
    return None


MediaItem = Annotated[
    Union[Annotated[UrlMedia, Tag("url")], Annotated[SequenceMedia, Tag("tracks")]],
    Discriminator(
        _media_kind,
        custom_error_type="media_kind",
        custom_error_message="a media item needs either 'url' or 'tracks'",
    ),
]


class Clip(_Model):
    media: str = Field(description="Name of a media item of the project.")


class Publish(_Model):
    """Publish the composition to a share page once the project's steps ran (2026 API)."""

    media_type: Literal["Video", "Audio"] = Field(default="Video")
    resolution: Literal["480p", "720p", "1080p", "1440p", "4K"] | None = Field(
        default=None, description="Video only; the API's default when unset."
    )
    access_level: Literal["public", "unlisted", "drive", "private"] | None = Field(
        default=None, description="Who can see the share page; the drive's default when unset."
    )


class Composition(_Model):
    name: str = Field(min_length=1)
    clips: list[Clip] = Field(min_length=1)
    width: int | None = Field(default=None, gt=0, le=MAX_DIMENSION, description="Pixels.")
    height: int | None = Field(default=None, gt=0, le=MAX_DIMENSION, description="Pixels.")
    fps: float | None = Field(default=None, gt=0, le=MAX_FPS, allow_inf_nan=False)
    publish: Publish | None = Field(
        default=None,
        description="Publish this composition after the project's steps (a publish job); a "
        "changed setting is a new publish.",
    )


class AgentStep(_Model):
    """One Underlord prompt. Applied steps form an append-only log."""

    id: str = Field(pattern=STEP_ID_PATTERN, description="Stable id, unique in the project.")
    prompt: str = Field(min_length=1)
    model: str | None = Field(
        default=None, min_length=1, description="AI model; defaults.model if unset."
    )
    composition: str | None = Field(
        default=None,
        min_length=1,
        description="Name of a composition of the project for the agent to work on (2026 API).",
    )


class Lifecycle(_Model):
    on_change: Literal["block", "replace"] = Field(
        default="block",
        description="What a change to import-time inputs does: 'block' the plan (default) or "
        "'replace' the project (a new project; the old one is recorded as orphaned).",
    )


class Export(_Model):
    """Files refreshed by every apply from a published project: its captions and metadata,
    versioned beside the config."""

    published: str | None = Field(
        default=None, min_length=1, description="Slug of the published project."
    )
    composition: str | None = Field(
        default=None,
        min_length=1,
        description="Or: a composition of this project with `publish:` (its share page).",
    )
    subtitles: str | None = Field(
        default=None, description="WEBVTT file to write, relative to the workspace directory."
    )
    metadata: str | None = Field(
        default=None, description="JSON file to write (title, duration, publisher, privacy)."
    )


class Defaults(_Model):
    team_access: TeamAccess | None = None
    callback_url: str | None = None
    model: str | None = Field(default=None, min_length=1)


class BudgetBlock(_Model):
    """What one apply may spend (issue #23), in all (the workspace's `budget:`) or on one
    project's jobs (the project's `budget:`): an apply whose forecast's high end passes it refuses
    to start, and a running apply sends nothing more (of that project) once what it spent plus
    the high estimate of what is in flight would pass it."""

    ai_credits: float | None = Field(
        default=None, ge=0, le=1e9, allow_inf_nan=False, description="AI credits per apply."
    )
    media_seconds: float | None = Field(
        default=None, ge=0, le=1e9, allow_inf_nan=False, description="Media seconds per apply."
    )


class Project(_Model):
    name: str | None = Field(
        default=None, min_length=1, description="Descript project name (default: the address)."
    )
    team_access: TeamAccess | None = None
    media: dict[str, MediaItem] = Field(
        default_factory=_empty_dict,
        description="Display name (folder paths allowed) -> media item.",
    )
    compositions: list[Composition] = Field(default_factory=_empty_list)
    steps: list[AgentStep] = Field(default_factory=_empty_list)
    callback_url: str | None = None
    lifecycle: Lifecycle | None = None
    folder: str | None = Field(
        default=None,
        min_length=1,
        description="Drive folder a new project is placed in, e.g. 'Clients/Acme' (2026 API).",
    )
    exports: list[Export] = Field(default_factory=_empty_list)
    budget: BudgetBlock | None = Field(
        default=None,
        description="What one apply may spend on this project's jobs: {ai_credits: N, "
        "media_seconds: N}, besides the workspace's budget.",
    )


class MovedBlock(_Model):
    """A renamed project (as Terraform's moved blocks): the project recorded under `from` is
    managed under `to` from now on; nothing is replaced, no job is sent."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_: str = Field(alias="from", pattern=ADDRESS_PATTERN, description="The old address.")
    to: str = Field(
        pattern=ADDRESS_PATTERN, description="The new address, declared under projects."
    )


class LocalState(_Model):
    """The state in a JSON file: commit it with the workspace; one apply at a time."""

    backend: Literal["local"]
    path: str = Field(
        min_length=1,
        description="The state file, relative to the file that declares this block (so the "
        "workspace finds it from any working directory).",
    )


class PostgresState(_Model):
    """The state in PostgreSQL: one state, one lock and one view of the jobs in doubt for every
    machine that applies the workspace."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    backend: Literal["postgresql"]
    url: str = Field(
        min_length=1,
        repr=False,
        description="postgresql://USER:PASSWORD@HOST:PORT/DBNAME. Write ${env:NAME}: the URL is "
        "a secret, never shown, logged or saved.",
    )
    name: str | None = Field(
        default=None,
        pattern=STATE_NAME_PATTERN,
        description="The state's name in the database (default: the workspace's name).",
    )
    schema_name: str | None = Field(
        default=None,
        alias="schema",
        pattern=SCHEMA_PATTERN,
        description="The schema holding descript-iac's tables (default: descript_iac).",
    )


def _state_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        backend = value.get("backend")
        return backend if backend in ("local", "postgresql") else None
    if isinstance(value, (LocalState, PostgresState)):
        return value.backend
    return None


StateBlock = Annotated[
    Union[Annotated[LocalState, Tag("local")], Annotated[PostgresState, Tag("postgresql")]],
    Discriminator(
        _state_kind,
        custom_error_type="state_backend",
        custom_error_message="'backend' must be 'local' or 'postgresql'",
    ),
]


class WorkspaceFile(_Model):
    """One file of a descript-iac workspace (a directory of *.yaml files, merged)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="descript-iac workspace file",
    )

    version: Literal[1] = Field(description="Format version. This release reads version 1.")
    state: StateBlock | None = Field(
        default=None,
        description="Where the workspace's state lives (in one file of the workspace). "
        "Default: a local file state/<workspace>.json under the working directory.",
    )
    defaults: Defaults | None = None
    budget: BudgetBlock | None = Field(
        default=None,
        description="What one apply may spend, in one file of the workspace: "
        "{ai_credits: N, media_seconds: N}.",
    )
    projects: dict[
        Annotated[str, Field(pattern=ADDRESS_PATTERN)],
        Project,
    ] = Field(default_factory=_empty_dict)
    moved: list[MovedBlock] = Field(
        default_factory=_empty_list,
        description="Renamed projects: [{from: OLD, to: NEW}]. Keeps the project and its applied "
        "steps under the new address.",
    )
