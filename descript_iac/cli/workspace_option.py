"""One way to name the workspace on every command: `--workspace DIR` (`-w DIR`) is accepted by
every command that reads one; commands that always took it as an argument (`plan DIR`,
`validate DIR`, ...) keep that form too. The run remembers which workspace it used, so that a
command it suggests in a message can be pasted as it is (cli/suggestions.py; `Globals.settings`
notes it)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

HELP = "The workspace directory (the same as the DIRECTORY argument where there is one)."


def workspace_option(param: str = "directory") -> Callable[[Callable[..., Any]], Any]:
    """Add `--workspace/-w` to a command whose workspace comes in as the argument `param`."""

    def decorate(f: Callable[..., Any]) -> Any:
        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            given = kwargs.pop("workspace_option", None)
            current = kwargs.get(param)
            if given is not None:
                if current not in (None, Path("."), given):
                    raise click.UsageError(
                        f"the workspace is given twice ({current} and --workspace {given}); "
                        "give it once"
                    )
                kwargs[param] = given
            return f(*args, **kwargs)

        return click.option(
            "-w",
            "--workspace",
            "workspace_option",
            type=click.Path(path_type=Path),
            default=None,
            help=HELP,
        )(wrapper)

    return decorate
