"""The controller's own file: where it listens, where it keeps its records, what it watches and
the policy of each workspace (Atlantis keeps the same in its `repos.yaml`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from descript_iac.controller.policy import Policy
from descript_iac.errors import DescriptIacError

TOKEN_ENV = "DESCRIPT_IAC_CONTROLLER_TOKEN"  # bearer token for approvals (never Descript's)
WEBHOOK_SECRET_ENV = "DESCRIPT_IAC_WEBHOOK_SECRET"  # GitHub HMAC secret / GitLab token
# PostgreSQL for replicas: the runs and which replica reconciles which workspace (a secret URL).
DATABASE_ENV = "DESCRIPT_IAC_CONTROLLER_DATABASE_URL"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WatchedWorkspace(_Model):
    """One workspace: a local `dir`, or a `git` remote and `branch` (the workspace at `path`
    inside the repository)."""

    dir: Path | None = None
    git: str | None = None
    branch: str = "main"
    path: str = "."
    policy: Policy = Field(default_factory=Policy)

    @model_validator(mode="after")
    def _one_source(self) -> WatchedWorkspace:
        if (self.dir is None) == (self.git is None):
            raise ValueError("give either `dir:` (a local directory) or `git:` (a remote URL)")
        return self

    @property
    def kind(self) -> Literal["dir", "git"]:
        return "dir" if self.dir is not None else "git"


class ControllerSettings(_Model):
    listen: str = "127.0.0.1:8080"
    # How Descript reaches this controller (callbacks carry it); default: http://<listen>.
    public_url: str | None = None
    data_dir: Path = Path("controller-data")
    fetch_interval: float = Field(default=60.0, gt=0)  # seconds between fetches of each source
    poll_interval: float = Field(default=2.0, gt=0)  # the apply's first poll interval
    # seconds between drift reads of each workspace (a `plan --refresh`: the API's job history)
    drift_interval: float = Field(default=300.0, gt=0)
    workspaces: dict[str, WatchedWorkspace]

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0] or "127.0.0.1"

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.listen}").rstrip("/")

    @model_validator(mode="after")
    def _listen(self) -> ControllerSettings:
        port = self.listen.rpartition(":")[2]
        if not port.isdigit():
            raise ValueError(f"listen: '{self.listen}' is not HOST:PORT")
        if not self.workspaces:
            raise ValueError("workspaces: name at least one workspace to watch")
        return self


def load_settings(path: Path) -> ControllerSettings:
    """Read the controller file; every problem says file:line and what to change."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DescriptIacError(f"{path}: cannot read the controller file: {exc.strerror}") from exc
    try:
        data = YAML(typ="safe").load(text)
    except YAMLError as exc:
        raise DescriptIacError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise DescriptIacError(f"{path}: expected a mapping with `workspaces:`")
    try:
        settings = ControllerSettings.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"{path}: {'.'.join(str(p) for p in error['loc']) or '(top)'}: {error['msg']}"
            for error in exc.errors()
        ]
        raise DescriptIacError("\n".join(lines)) from None
    base = path.parent
    fixed = {
        name: ws.model_copy(update={"dir": base / ws.dir}) if ws.dir is not None else ws
        for name, ws in settings.workspaces.items()
    }
    return settings.model_copy(update={"workspaces": fixed, "data_dir": base / settings.data_dir})
