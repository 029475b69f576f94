"""What every command shares: global options, resolved once, passed down through click."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from descript_iac.timing import Timing


@dataclass
class Globals:
    api_url: str | None
    state_path: Path | None
    verbose: bool
    lock_timeout: float
    color: bool | None
    commit_span: float | None = None
    history_lag: float | None = None

    def timing(self) -> Timing:
        return Timing.from_env(self.commit_span, self.history_lag)

    def state_for(self, workspace_root: Path) -> Path:
        """The state document: --state, else state/<workspace>.json under the working dir."""
        if self.state_path is not None:
            return self.state_path
        name = workspace_root.resolve().name if workspace_root.is_dir() else "default"
        return Path("state") / f"{name}.json"


def get_globals(ctx: click.Context) -> Globals:
    obj = ctx.find_root().obj
    if isinstance(obj, Globals):
        return obj
    return Globals(None, None, False, 0.0, None)


def is_tty() -> bool:
    return sys.stdout.isatty() and os.environ.get("TERM") != "dumb"


def echo(text: str = "", *, err: bool = False) -> None:
    """Print through the redactor: no secret ever reaches a terminal or a CI log."""
    from descript_iac.redact import redact

    click.echo(redact(text), err=err)
