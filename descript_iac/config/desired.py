"""The desired state: the merged, validated workspace, with defaults resolved."""

from __future__ import annotations

from pathlib import Path

import msgspec

from descript_iac.config.model import AgentStep, BudgetBlock, Defaults, Project, UrlMedia
from descript_iac.config.statesetting import StateSetting
from descript_iac.errors import Problem

DEFAULT_TEAM_ACCESS = "none"  # the API's documented default


class DesiredProject(msgspec.Struct, frozen=True):
    """One project as the user declared it, with where it was declared."""

    address: str
    spec: Project
    defaults: Defaults
    file: str
    line: int
    # Paths (relative to the project) whose values came from the environment: secrets.
    secret_paths: frozenset[tuple[str | int, ...]] = msgspec.field(default_factory=frozenset)

    @property
    def name(self) -> str:
        return self.spec.name or self.address

    @property
    def team_access(self) -> str:
        return self.spec.team_access or self.defaults.team_access or DEFAULT_TEAM_ACCESS

    @property
    def callback_url(self) -> str | None:
        return self.spec.callback_url or self.defaults.callback_url

    @property
    def on_change(self) -> str:
        return self.spec.lifecycle.on_change if self.spec.lifecycle else "block"

    @property
    def has_media(self) -> bool:
        return bool(self.spec.media)

    def step_model(self, step: AgentStep) -> str | None:
        return step.model or self.defaults.model

    def url_media(self) -> dict[str, UrlMedia]:
        return {n: m for n, m in self.spec.media.items() if isinstance(m, UrlMedia)}

    def is_secret(self, *path: str | int) -> bool:
        return tuple(path) in self.secret_paths

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


class Move(msgspec.Struct, frozen=True):
    """A `moved` block: the project recorded under `from_address` is now `to_address`."""

    from_address: str
    to_address: str
    file: str
    line: int
    column: int = 1

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


class Workspace(msgspec.Struct, frozen=True):
    """All projects of a workspace directory."""

    root: Path
    projects: dict[str, DesiredProject]
    files: tuple[str, ...]
    moves: tuple[Move, ...] = ()
    # Things that are valid but probably wrong (a media URL that names no audio or video file).
    warnings: tuple[Problem, ...] = ()
    state: StateSetting | None = None
    budget: BudgetBlock | None = None  # what one apply may spend

    @property
    def name(self) -> str:
        return self.root.resolve().name
