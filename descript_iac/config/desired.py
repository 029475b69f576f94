"""The desired state: the merged, validated workspace, with defaults resolved."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from descript_iac.config.model import AgentStep, Defaults, Project, UrlMedia

DEFAULT_TEAM_ACCESS = "none"  # the API's documented default


@dataclass(frozen=True)
class DesiredProject:
    """One project as the user declared it, with where it was declared."""

    address: str
    spec: Project
    defaults: Defaults
    file: str
    line: int
    # Paths (relative to the project) whose values came from the environment: secrets.
    secret_paths: frozenset[tuple[str | int, ...]] = field(default_factory=frozenset)

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


@dataclass(frozen=True)
class StateSetting:
    """The workspace's `state:` block, resolved: where its state lives."""

    backend: Literal["local", "postgresql"]
    where: str  # file:line of the block
    path: Path | None = None  # local: resolved against the declaring file's directory
    url: str | None = field(default=None, repr=False)  # postgresql: a secret
    name: str | None = None  # postgresql: the state's name (the workspace's name by default)
    schema: str | None = None  # postgresql: None for the default schema


@dataclass(frozen=True)
class Workspace:
    """All projects of a workspace directory."""

    root: Path
    projects: dict[str, DesiredProject]
    files: tuple[str, ...]
    state: StateSetting | None = None

    @property
    def name(self) -> str:
        return self.root.resolve().name
