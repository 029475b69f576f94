"""The `descript-iac` command: global options, the verbs, and the one place errors become exits.

Each verb lives in its own module and only unpacks options and calls the library.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from descript_iac import __version__
from descript_iac.cli.context import Globals, echo, get_globals
from descript_iac.cli.global_options import attach
from descript_iac.errors import DescriptIacError, describe_os_error
from descript_iac.redact import redact, register_url_secret

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class _Group(click.Group):
    """Turns every `DescriptIacError` into a message and exit code; nothing else does.

    Commands are loaded lazily from `COMMANDS`.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in COMMANDS:
            return command
        module_name, _, attr = COMMANDS[cmd_name].partition(":")
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        attach(command, self, _set_global)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DescriptIacError as exc:
            echo(exc.render(), err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            echo("Interrupted.", err=True)
            sys.exit(130)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except BrokenPipeError as exc:
            # `descript-iac state show | head -1`: the reader left. Say so on stderr, and keep
            # Python from complaining again when it flushes stdout at exit.
            with contextlib.suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            with contextlib.suppress(OSError):
                echo(f"Error: {describe_os_error(exc, '<stdout>')}", err=True)
            sys.exit(1)
        except OSError as exc:
            # The user's machine refused a file operation (a full disk, a read-only file
            # system, a missing directory): not a bug, so no traceback and no bug report.
            if os.environ.get("DESCRIPT_IAC_DEBUG"):
                raise
            echo(f"Error: {describe_os_error(exc)}", err=True)
            sys.exit(1)
        except Exception as exc:
            if os.environ.get("DESCRIPT_IAC_DEBUG"):
                raise
            # A bug: say so plainly, without a traceback that could carry a secret.
            echo(
                f"Error: unexpected {type(exc).__name__}: {exc}. This is a bug in descript-iac; "
                "rerun with DESCRIPT_IAC_DEBUG=1 to see the traceback and report it.",
                err=True,
            )
            sys.exit(1)


@click.group(cls=_Group, context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="descript-iac")
@click.option(
    "--api-url",
    envvar="DESCRIPT_API_URL",
    help="Descript API base URL [env DESCRIPT_API_URL; default https://descriptapi.com/v1].",
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A local state file, overriding the workspace's `state:` block [default: the block, "
    "else state/<workspace>.json under the working directory].",
)
@click.option(
    "--backend-url",
    envvar="DESCRIPT_IAC_BACKEND_URL",
    metavar="URL",
    help="A PostgreSQL URL for the state, overriding the workspace's `state:` block (a secret: "
    "prefer the env var) [env DESCRIPT_IAC_BACKEND_URL].",
)
@click.option("-v", "--verbose", is_flag=True, help="Log every API request (secrets redacted).")
@click.option(
    "--lock-timeout",
    type=float,
    default=0.0,
    show_default=True,
    help="Seconds to wait for the state lock held by another run.",
)
@click.option("--color/--no-color", default=None, help="Force or disable colours.")
@click.option(
    "--commit-span",
    type=click.FloatRange(min=0),
    envvar="DESCRIPT_IAC_COMMIT_SPAN",
    help="Seconds a POST whose reply was lost may take to commit its job "
    "[env DESCRIPT_IAC_COMMIT_SPAN; default 300].",
)
@click.option(
    "--history-lag",
    type=click.FloatRange(min=0),
    envvar="DESCRIPT_IAC_HISTORY_LAG",
    help="Seconds a committed job may take to appear in the job history "
    "[env DESCRIPT_IAC_HISTORY_LAG; default 120].",
)
@click.pass_context
def main(
    ctx: click.Context,
    api_url: str | None,
    state_path: Path | None,
    backend_url: str | None,
    verbose: bool,
    lock_timeout: float,
    color: bool | None,
    commit_span: float | None,
    history_lag: float | None,
) -> None:
    """Descript projects as code: declare projects in YAML, then plan and apply the missing
    import and agent (Underlord) jobs.

    Global options can also be given after the command: descript-iac plan DIR --api-url URL -v.

    \b
    Typical use:
      descript-iac validate examples/quickstart
      descript-iac plan examples/quickstart --emulator
      descript-iac apply examples/quickstart --emulator --auto-approve

    Shell completion (bash; use zsh_source or fish_source for other shells):
      eval "$(_DESCRIPT_IAC_COMPLETE=bash_source descript-iac)"
    """
    if backend_url:
        register_url_secret(backend_url)
    ctx.obj = Globals(
        api_url, state_path, verbose, lock_timeout, color, commit_span, history_lag, backend_url
    )
    if verbose:
        _log_requests()
    if color is not None:
        ctx.color = color


def _set_global(ctx: click.Context, name: str, value: Any) -> None:
    """A global option given after the verb: as if given before it."""
    g = get_globals(ctx)
    if hasattr(g, name):
        setattr(g, name, value)
    if name == "verbose" and value:
        _log_requests()
    if name == "color":
        ctx.color = ctx.find_root().color = value


class _RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def _log_requests() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_RedactingFormatter("%(asctime)s %(name)s %(message)s"))
    logger = logging.getLogger("descript_iac")
    logger.handlers = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False


# Each verb's module is imported only when that verb runs (or its help is shown), so start-up
# costs what the verb needs, not what every verb needs. Add a command here: name -> module:attr.
COMMANDS: dict[str, str] = {
    "validate": "descript_iac.cli.validate:validate",
    "plan": "descript_iac.cli.planning:plan",
    "apply": "descript_iac.cli.planning:apply",
    "state": "descript_iac.cli.state:state",
    "force-unlock": "descript_iac.cli.state:force_unlock",
    "status": "descript_iac.cli.api_commands:status",
    "jobs": "descript_iac.cli.api_commands:jobs",
    "config": "descript_iac.cli.api_commands:config",
    "schema": "descript_iac.cli.schema:schema",
    "emulator": "descript_iac.cli.emulator:emulator",
    "init": "descript_iac.cli.init:init",
    "show": "descript_iac.cli.show:show",
    "import": "descript_iac.cli.importing:import_command",
    "fmt": "descript_iac.cli.fmt:fmt",
    "import-media": "descript_iac.cli.oneoff:import_media",
    "agent": "descript_iac.cli.oneoff:agent",
    "edit-link": "descript_iac.cli.surface:edit_link",
    "published": "descript_iac.cli.surface:published",
    "doctor": "descript_iac.cli.surface:doctor",
}
