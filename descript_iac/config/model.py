"""The workspace format as pydantic models: the single source of the JSON Schema.

These models describe one YAML file. `schemas/descript-iac.schema.json` is generated from
`WorkspaceFile` (see `config/schema.py`); a test fails when the checked-in schema drifts.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator

TeamAccess = Literal["edit", "comment", "view", "none"]

ADDRESS_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,99}$"
STEP_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_REVISION = "must be a whole number (0 or more) or a non-empty label; bump it to force a re-import"


class UrlMedia(_Model):
    """A file imported from a public or pre-signed http(s) URL."""

    url: str = Field(
        description="Public or pre-signed http(s) URL. Use ${env:NAME} for pre-signed URLs: "
        "values from the environment are secret and never shown or saved.",
    )
    language: str | None = Field(default=None, description="Transcription language, e.g. 'en'.")
    revision: int | str | None = Field(
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


class Track(_Model):
    media: str = Field(description="Name of another media item of the same project.")
    offset: float | None = Field(default=None, ge=0, description="Start offset in seconds.")


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


class Composition(_Model):
    name: str = Field(min_length=1)
    clips: list[Clip] = Field(min_length=1)
    width: int | None = Field(default=None, gt=0)
    height: int | None = Field(default=None, gt=0)
    fps: float | None = Field(default=None, gt=0)


class AgentStep(_Model):
    """One Underlord prompt. Applied steps form an append-only log."""

    id: str = Field(pattern=STEP_ID_PATTERN, description="Stable id, unique in the project.")
    prompt: str = Field(min_length=1)
    model: str | None = Field(default=None, description="AI model; defaults.model if unset.")


class Lifecycle(_Model):
    on_change: Literal["block", "replace"] = Field(
        default="block",
        description="What a change to import-time inputs does: 'block' the plan (default) or "
        "'replace' the project (a new project; the old one is recorded as orphaned).",
    )


class Defaults(_Model):
    team_access: TeamAccess | None = None
    callback_url: str | None = None
    model: str | None = None


class Project(_Model):
    name: str | None = Field(
        default=None, min_length=1, description="Descript project name (default: the address)."
    )
    team_access: TeamAccess | None = None
    media: dict[str, MediaItem] = Field(
        default_factory=dict, description="Display name (folder paths allowed) -> media item."
    )
    compositions: list[Composition] = Field(default_factory=list)
    steps: list[AgentStep] = Field(default_factory=list)
    callback_url: str | None = None
    lifecycle: Lifecycle | None = None


class WorkspaceFile(_Model):
    """One file of a descript-iac workspace (a directory of *.yaml files, merged)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="descript-iac workspace file",
    )

    version: Literal[1] = Field(description="Format version. This release reads version 1.")
    defaults: Defaults | None = None
    projects: dict[
        Annotated[str, Field(pattern=ADDRESS_PATTERN)],
        Project,
    ] = Field(default_factory=dict)
