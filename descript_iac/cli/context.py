"""What every command shares: global options, resolved once, passed down through click."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import click

from descript_iac.timing import Timing

if TYPE_CHECKING:  # imported when a command runs: `--help` stays light
    from descript_iac.workspace.settings import RunSettings


@dataclass
class Globals:
    api_url: str | None
    state_path: Path | None
    verbose: bool
    lock_timeout: float
    color: bool | None
    commit_span: float | None = None
    history_lag: float | None = None
    backend_url: str | None = field(default=None, repr=False)
    workspace_dir: Path | None = None  # the workspace this run works on, once known

    def timing(self) -> Timing:
        return Timing.from_env(self.commit_span, self.history_lag)

    def settings(
        self, root: Path, emulator: bool = False, capabilities: tuple[str, ...] = ()
    ) -> RunSettings:
        """What a command works on; where the state lives is chosen by `RunSettings.store`."""
        from descript_iac.workspace.settings import RunSettings

        self.workspace_dir = root  # for the commands this run suggests (cli/suggestions.py)
        return RunSettings.for_workspace(
            root,
            state_path=self.state_path,
            backend_url=self.backend_url,
            api_url=self.api_url,
            emulator=emulator,
            capabilities=frozenset(capabilities),
            lock_timeout=self.lock_timeout,
            timing=self.timing(),
        )


def get_globals(ctx: click.Context) -> Globals:
    obj = ctx.find_root().obj
    if isinstance(obj, Globals):
        return obj
    return Globals(None, None, False, 0.0, None)


def is_tty() -> bool:
    return sys.stdout.isatty() and os.environ.get("TERM") != "dumb"


def use_color(g: Globals) -> bool:
    """--color/--no-color, else colour on a terminal unless NO_COLOR is set (no-color.org)."""
    if g.color is not None:
        return g.color
    return is_tty() and not os.environ.get("NO_COLOR")


def echo(text: str = "", *, err: bool = False) -> None:
    """Print through the redactor: no secret ever reaches a terminal or a CI log; no control
    character from the API or a file drives the terminal (`terminal_text.visible`); a command the
    text suggests is completed with this run's workspace and state options (pasteable)."""
    from descript_iac.cli.suggestions import complete
    from descript_iac.redact import redact
    from descript_iac.terminal_text import visible

    click.echo(visible(redact(complete(text))), err=err)
