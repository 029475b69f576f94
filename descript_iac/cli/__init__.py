"""The `descript-iac` command: global options, the verbs, and the one place errors become exits.

Each verb lives in its own module and only unpacks options and calls the library.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import time
from pathlib import Path
from typing import Any

import click

# descript-iac uses no pydantic plugin; looking for them reads every installed package's entry
# points when the first model is built (a tenth of a `validate`). A user's own setting stands.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from descript_iac import __version__, notices
from descript_iac.cli.context import Globals, echo, get_globals
from descript_iac.cli.durations import Duration
from descript_iac.cli.global_options import attach
from descript_iac.errors import DescriptIacError, describe_os_error
from descript_iac.redact import redact, register_url_secret
from descript_iac.terminal_text import visible

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
        module_name, _, attr = _target(cmd_name).partition(":")
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        attach(command, self, _set_global)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Click's list of commands, with each summary from `COMMANDS`: `--help` imports no
        command module (the first sentence of each command's docstring; a test compares)."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            summary = _summary(name)
            if summary is None:
                command = self.get_command(ctx, name)
                if command is None or command.hidden:
                    continue
                rows.append((name, command.get_short_help_str(limit)))
            else:
                # Shortened exactly as click shortens a docstring.
                rows.append((name, click.Command(name, help=summary).get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def main(  # type: ignore[override]
        self,
        args: list[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Click's main, with Terraform's exit codes: a usage error (an unknown option, a bad
        value) exits 1, never 2, which `plan --detailed-exitcode` keeps for "changes"; and a
        single-dash long option (`-out=x`, as Terraform spells it) gets a hint.

        Every file and directory the command makes is private to the user (0600, 0700),
        whatever the umask (issue #27): states, plans, journals and caches hold prompts, agent
        replies and project URLs."""
        umask = os.umask(0o077)
        try:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as exc:
            if not standalone_mode:
                raise
            exc.show()
            if isinstance(exc, click.UsageError):
                hint = single_dash_hint(exc, sys.argv[1:] if args is None else list(args))
                if hint:
                    echo(hint, err=True)
                sys.exit(1)
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            if not standalone_mode:
                raise
            echo("Aborted!", err=True)
            sys.exit(1)
        finally:
            os.umask(umask)  # (the Python API and tests run commands in their own process)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return self._invoke(ctx)
        finally:
            _report_refused_numbers()

    def _invoke(self, ctx: click.Context) -> Any:
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
        except BrokenPipeError:
            # `descript-iac show ws | head -1`: the reader left, as Unix tools expect readers
            # to. Exit quietly and successfully (a `set -o pipefail` script goes on), and keep
            # Python from complaining when it flushes stdout at exit.
            with contextlib.suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
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


def _report_refused_numbers() -> None:
    """Each number the API sent that was not sane (api/models.py), said once on stderr."""
    models = sys.modules.get("descript_iac.api.models")  # (not imported: no reply was read)
    refused: list[str] = getattr(models, "REFUSED_NUMBERS", [])
    for note in refused:
        echo(f"Warning: {note}: taken as unknown.", err=True)
    refused.clear()


def single_dash_hint(exc: click.UsageError, argv: list[str]) -> str:
    """ "Did you mean --out?" for each `-out`/`-out=x` in `argv` whose `--out` the command has."""
    command = exc.ctx.command if exc.ctx is not None else None
    if command is None:
        return ""
    known = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
    hints = []
    for word in argv:
        name = word.split("=", 1)[0]
        single = len(name) > 2 and name.startswith("-") and not name.startswith("--")
        if single and f"-{name}" in known:
            hints.append(f"Did you mean -{word}? (long options take two dashes)")
    return "\n".join(dict.fromkeys(hints))


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
    type=Duration(),
    default=0.0,
    show_default=True,
    help="How long to wait for the state lock held by another run (90, 10s, 5m, 1h).",
)
@click.option("--color/--no-color", default=None, help="Force or disable colours.")
@click.option(
    "--request-deadline",
    type=Duration(minimum=1.0),
    default=None,
    help="The longest one API request may take in all, its reply included (a server or proxy "
    "that drips its reply is given up) [env DESCRIPT_IAC_REQUEST_DEADLINE; default 120s].",
)
@click.option(
    "--max-throttled",
    type=Duration(),
    default=None,
    help="The longest a run may spend paused by the API's 429 replies, in all; then it stops "
    "(pacing to the rate the API announces is not counted) "
    "[env DESCRIPT_IAC_MAX_THROTTLED; default 10m].",
)
@click.option(
    "--commit-span",
    type=Duration(),
    envvar="DESCRIPT_IAC_COMMIT_SPAN",
    help="Seconds a POST whose reply was lost may take to commit its job "
    "[env DESCRIPT_IAC_COMMIT_SPAN; default 300].",
)
@click.option(
    "--history-lag",
    type=Duration(),
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
    request_deadline: float | None,
    max_throttled: float | None,
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
    if request_deadline is not None:  # read by every client this process opens (api/client.py)
        os.environ["DESCRIPT_IAC_REQUEST_DEADLINE"] = str(request_deadline)
    if max_throttled is not None:  # (as the request deadline)
        os.environ["DESCRIPT_IAC_MAX_THROTTLED"] = str(max_throttled)
    _say_throttling()
    ctx.obj = Globals(
        api_url, state_path, verbose, lock_timeout, color, commit_span, history_lag, backend_url
    )
    if verbose:
        _log_requests()
    else:
        _stop_logging_requests()
    if color is not None:
        ctx.color = color
    elif os.environ.get("NO_COLOR"):
        ctx.color = False  # click strips any style from what it prints (no-color.org)


def _set_global(ctx: click.Context, name: str, value: Any) -> None:
    """A global option given after the verb: as if given before it."""
    g = get_globals(ctx)
    if hasattr(g, name):
        setattr(g, name, value)
    if name == "verbose" and value:
        _log_requests()
    if name == "color":
        ctx.color = ctx.find_root().color = value
    if name == "request_deadline" and value is not None:
        os.environ["DESCRIPT_IAC_REQUEST_DEADLINE"] = str(value)
    if name == "max_throttled" and value is not None:
        os.environ["DESCRIPT_IAC_MAX_THROTTLED"] = str(value)


def _log_requests() -> None:
    import logging  # only with --verbose

    class _RedactingFormatter(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return redact(super().format(record))

    class _StderrHandler(logging.StreamHandler):
        """Writes to `sys.stderr` as it is at each record: on a terminal, the live display
        puts its own in place so that log lines go above its block."""

        def emit(self, record: logging.LogRecord) -> None:
            self.stream = sys.stderr
            super().emit(record)

    handler = _StderrHandler(sys.stderr)
    handler.setFormatter(_RedactingFormatter("%(asctime)s %(name)s %(message)s"))
    logger = logging.getLogger("descript_iac")
    logger.handlers = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    _logging_requests.append(True)


_logging_requests: list[bool] = []  # set by -v in this process


def _say_throttling() -> None:
    """Pauses of the rate limiter and bad rate-limit headers (api/ratelimit.py) as warnings
    on stderr, with or without -v: on a terminal the live display puts its own stderr in
    place, so they go above its block; in CI they are plain timestamped lines."""
    notices.send_to(_throttle_notice)


def _throttle_notice(text: str) -> None:
    stamp = time.strftime("%H:%M:%S")
    sys.stderr.write(f"[{stamp}] Warning: {visible(redact(text))}\n")
    sys.stderr.flush()


def _stop_logging_requests() -> None:
    """A run without -v after one with it in the same process (the Python API, tests) logs
    nothing: the handler -v installed writes to the stderr of the moment."""
    if not _logging_requests:
        return
    import logging

    logger = logging.getLogger("descript_iac")
    logger.handlers = []
    logger.setLevel(logging.NOTSET)
    logger.propagate = True
    _logging_requests.clear()


# Each verb's module is imported only when that verb runs (or its own help is shown), so start-up
# costs what the verb needs, not what every verb needs. Add a command here:
# name -> ("module:attr", the first sentence of its docstring, shown by `--help`).
COMMANDS: dict[str, str | tuple[str, str]] = {
    "validate": (
        "descript_iac.cli.validate:validate",
        "Check the workspace in DIRECTORY (default: .) and list every problem.",
    ),
    "plan": (
        "descript_iac.cli.planning:plan",
        "Show which import and agent jobs DIRECTORY's workspace needs.",
    ),
    "apply": (
        "descript_iac.cli.planning:apply",
        "Issue only the missing jobs for SOURCE (a workspace directory or a saved plan file).",
    ),
    "state": (
        "descript_iac.cli.state:state",
        "Inspect the state, and resolve what an interrupted apply left in doubt.",
    ),
    "force-unlock": (
        "descript_iac.cli.state:force_unlock",
        "End the state lock LOCK_ID of a run that is gone or hangs (on PostgreSQL: end its "
        "database session; a run that died never holds a lock there).",
    ),
    "status": (
        "descript_iac.cli.api_commands:status",
        "Check that the API is reachable and the token works (GET /v1/status).",
    ),
    "jobs": (
        "descript_iac.cli.api_commands:jobs",
        "Read the job history (the API keeps 30 days).",
    ),
    "config": (
        "descript_iac.cli.api_commands:config",
        "User configuration (~/.config/descript-iac/config.json, mode 0600).",
    ),
    "schema": (
        "descript_iac.cli.schema:schema",
        "Print the JSON Schema (2020-12) of workspace files.",
    ),
    "emulator": (
        "descript_iac.cli.emulator:emulator",
        "The local Descript API emulator (no credits spent, no network needed).",
    ),
    "init": (
        "descript_iac.cli.init:init",
        "Start a workspace in DIRECTORY (default: descript/, a folder of its own, so that the CI "
        "and compose files of a repository's root are never read as workspace files): "
        "descript.yaml with the schema header, a commented example and a `state:` block (the "
        "state in DIRECTORY/state/, found from any working directory), the JSON Schema for "
        "editors, and .gitignore entries in the working directory.",
    ),
    "show": (
        "descript_iac.cli.show:show",
        "Show SOURCE: a saved plan (`plan --out FILE`) exactly as `apply FILE` will run it, or, "
        "for a workspace directory (default: .), every project its state manages: Descript URL, "
        "media with durations, compositions, applied steps with their prompts, agent responses "
        "and job ids, costs, orphaned and forgotten projects, open intents and quarantines.",
    ),
    "import": (
        "descript_iac.cli.importing:import_command",
        "Adopt PROJECT_ID (made in Descript, by a script, or by another tool) as ADDRESS.",
    ),
    "fmt": (
        "descript_iac.cli.fmt:fmt",
        "Rewrite the workspace files in DIRECTORY (default: .) in the canonical layout.",
    ),
    "import-media": (
        "descript_iac.cli.oneoff:import_media",
        "Import media into a new project (one job, sent exactly once), with live progress.",
    ),
    "agent": (
        "descript_iac.cli.oneoff:agent",
        "Run one Underlord prompt on a project, or on a new one (--new), exactly once.",
    ),
    "edit-link": (
        "descript_iac.cli.surface:edit_link",
        "Make a one-time Edit in Descript import URL for files (it expires after 3 hours).",
    ),
    "published": (
        "descript_iac.cli.surface:published",
        "Show a published project (title, duration, publisher, privacy, publish type).",
    ),
    "costs": (
        "descript_iac.cli.costs:costs",
        "What DIRECTORY's workspace has spent, from its state: media seconds and AI credits per "
        "project, model, ISO week and day (forgotten projects' past included).",
    ),
    "serve": (
        "descript_iac.cli.serve:serve",
        "Watch the workspaces CONFIG_FILE names (default: controller.yaml), plan each new "
        "revision, apply what its policy allows and hold the rest for approval; serve the "
        "dashboard, the JSON API, webhooks and callbacks.",
    ),
    "approve": (
        "descript_iac.cli.serve:approve",
        "Approve (or --reject) the held run RUN_ID of a `serve` controller; the token is "
        "DESCRIPT_IAC_CONTROLLER_TOKEN.",
    ),
    "doctor": (
        "descript_iac.cli.surface:doctor",
        "Check the token, the API (round trip, level), the clock, the state and the cache.",
    ),
}


def _target(name: str) -> str:
    entry = COMMANDS[name]
    return entry if isinstance(entry, str) else entry[0]


def _summary(name: str) -> str | None:
    """The short help of a command from the table, or None (then its module is imported)."""
    entry = COMMANDS.get(name)
    return entry[1] if isinstance(entry, tuple) else None
