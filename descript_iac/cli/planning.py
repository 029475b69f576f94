"""`descript-iac plan` and `descript-iac apply`."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import msgspec

from descript_iac.cli.context import Globals, echo, get_globals, use_color
from descript_iac.cli.durations import Duration
from descript_iac.cli.suggestions import complete
from descript_iac.cli.workspace_option import workspace_option
from descript_iac.errors import DescriptIacError, PlanError
from descript_iac.plan import Plan, PlanOptions
from descript_iac.plan.markdown import COMMENT_LIMIT, render_markdown
from descript_iac.plan.render import no_changes_line, render_text
from descript_iac.workspace import RunSettings, is_local, load_saved_plan, plan_workspace, save_plan

if TYPE_CHECKING:
    from descript_iac.config import Workspace
    from descript_iac.plan.forecast import Forecast

IMPORT_INTO_EXISTING = "import-into-existing"


def plan_options(f: Callable[..., Any]) -> Callable[..., Any]:
    for decorator in reversed(
        [
            click.option(
                "--target",
                "targets",
                multiple=True,
                metavar="ADDRESS",
                help="Only this project (repeatable).",
            ),
            click.option(
                "--allow-replace",
                is_flag=True,
                help="Replace projects whose import inputs changed (new project, steps rerun).",
            ),
            click.option(
                "--allow-forget",
                is_flag=True,
                help="Forget projects removed from the config (they stay in Descript).",
            ),
            click.option(
                "--replace",
                "replace",
                multiple=True,
                metavar="ADDRESS",
                help="Force a new project for ADDRESS (repeatable).",
            ),
            click.option(
                "--capability",
                "capabilities",
                multiple=True,
                type=click.Choice([IMPORT_INTO_EXISTING]),
                help="An API capability to rely on (import-into-existing: added media become "
                "an in-place update).",
            ),
            click.option(
                "--emulator",
                is_flag=True,
                help="Run against the embedded emulator (data beside the local state).",
            ),
            click.option(
                "--api-level",
                type=click.Choice(["seed", "2026"]),
                default="seed",
                show_default=True,
                help="With --emulator: the API the embedded emulator speaks (2026 adds "
                "publish jobs, folder_name and composition_id), as `emulator serve --api-level`.",
            ),
        ]
    ):
        f = decorator(f)
    return f


def _settings(
    g: Globals, root: Path, emulator: bool, capabilities: tuple[str, ...], api_level: str = "seed"
) -> RunSettings:
    if api_level != "seed" and not emulator:
        raise DescriptIacError(
            "--api-level sets the API level of the embedded emulator: use it with --emulator"
        )
    return g.settings(root, emulator, capabilities, api_level)


def _options(
    targets: tuple[str, ...],
    allow_replace: bool,
    allow_forget: bool,
    replace: tuple[str, ...],
    capabilities: tuple[str, ...],
) -> PlanOptions:
    return PlanOptions(
        allow_replace=allow_replace,
        allow_forget=allow_forget,
        targets=tuple(targets),
        replace=tuple(replace),
        import_into_existing=IMPORT_INTO_EXISTING in capabilities,
    )


forecast_option = click.option(
    "--forecast",
    type=click.Choice(["on", "off"]),
    default="on",
    show_default=True,
    help="Forecast the media seconds and AI credits the jobs will cost (probes each new media "
    "file with a few range requests; off: no request, for offline runs).",
)

refresh_option = click.option(
    "--refresh",
    is_flag=True,
    help="Read the job history first (GET /status, then the jobs): pick up unrecorded jobs and "
    "report drift (jobs run outside descript-iac, projects changed outside).",
)


@click.command()
@click.argument("directory", default=".", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Save the plan here.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
)
@click.option("--json", "as_json", is_flag=True, help="The same as --format json.")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when there are no changes, 2 when there are (or --refresh found drift), 1 on "
    "any error (a usage error, an invalid workspace, a blocked plan). Without it: 0 or 1.",
)
@refresh_option
@forecast_option
@plan_options
@workspace_option()
@click.pass_context
def plan(
    ctx: click.Context,
    directory: Path,
    out: Path | None,
    fmt: str,
    as_json: bool,
    detailed_exitcode: bool,
    refresh: bool,
    forecast: str,
    targets: tuple[str, ...],
    allow_replace: bool,
    allow_forget: bool,
    replace: tuple[str, ...],
    capabilities: tuple[str, ...],
    emulator: bool,
    api_level: str,
) -> None:
    """Show which import and agent jobs DIRECTORY's workspace needs.

    Without --refresh no API call is made: the plan compares the config with the state.
    Every step that will run is shown with its prompt, every import with what it sends.
    """
    g = get_globals(ctx)
    fmt = "json" if as_json else fmt
    settings = _settings(g, directory, emulator, capabilities, api_level)
    outcome = plan_workspace(
        settings, _options(targets, allow_replace, allow_forget, replace, capabilities), refresh
    )
    result = outcome.plan
    for warning in outcome.workspace.warnings:
        echo(str(warning), err=True)
    for note in outcome.notes:
        if refresh or fmt == "text":  # (a note of its own only beside the text plan)
            echo(f"{'Refresh' if refresh else 'Note'}: {note}", err=True)
    for line in outcome.warnings:
        echo(f"Warning: {line}", err=True)
    costs: Forecast | None = None
    if forecast == "on" and result.has_changes:
        from descript_iac.workspace.forecasting import forecast_plan

        costs = forecast_plan(outcome.workspace, result, outcome.step_samples())
    _show_plan(result, fmt, complete, use_color(g), costs, outcome.workspace)
    if out is not None:
        if result.blocked:
            raise PlanError(f"the plan is blocked; it was not saved to {out}")
        store = settings.store(outcome.workspace.state)
        save_plan(result, outcome.stored_header(), settings.root, store, out)
        echo(f"Saved the plan to {out}; apply it with `descript-iac apply {out}`.", err=True)
    if result.blocked:
        sys.exit(1)
    if detailed_exitcode and (result.has_changes or result.drift):
        sys.exit(2)


# The options that would make `apply PLANFILE` do something other than what was reviewed.
PLAN_CHANGING = {
    "targets": "--target",
    "refresh": "--refresh",
    "allow_replace": "--allow-replace",
    "allow_forget": "--allow-forget",
    "replace": "--replace",
    "capabilities": "--capability",
    "new_state": "--new-state",
}


def _refuse_changes_to_saved_plan(ctx: click.Context, g: Globals, saved_state: str) -> None:
    """A saved plan is the contract: an option that would change what it does is refused, not
    silently ignored (or silently honoured)."""
    given = [
        flag
        for name, flag in PLAN_CHANGING.items()
        if ctx.get_parameter_source(name) not in (None, click.core.ParameterSource.DEFAULT)
    ]
    if g.state_path is not None and (
        not is_local(saved_state) or Path(g.state_path).resolve() != Path(saved_state).resolve()
    ):
        given.append(f"a state path ({g.state_path}) other than the plan's ({saved_state})")
    if g.backend_url is not None and is_local(saved_state):
        given.append(f"a state backend other than the plan's ({saved_state})")
    if given:
        raise PlanError(
            "a saved plan is applied exactly as it was reviewed; it does not take "
            + ", ".join(given)
            + ". Run `descript-iac plan` again with these options (and --out FILE) to review "
            "what they change."
        )


def _confirm(auto_approve: bool, out: Callable[[Plan], None]) -> Callable[[Plan], bool]:
    def confirm(plan: Plan) -> bool:
        out(plan)
        if auto_approve:
            return True
        if not sys.stdin.isatty():
            raise DescriptIacError(
                "refusing to apply without confirmation: no terminal to ask on. Review the plan "
                "and pass --auto-approve (as CI does after a reviewed plan)."
            )
        answer = click.prompt(
            "Do you want to perform these actions? Only 'yes' will be accepted",
            default="",
            show_default=False,
        )
        return str(answer).strip() == "yes"

    return confirm


@click.command()
@click.argument("source", default=".", type=click.Path(path_type=Path))
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--parallelism",
    default=None,
    type=click.IntRange(min=1),
    help="Projects at once (default: all, paced by the API's rate limit).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON event per line.")
@click.option("--no-wait", is_flag=True, help="Submit and record; the next run picks jobs up.")
@click.option(
    "--poll-interval",
    default=2.0,
    show_default=True,
    type=Duration(minimum=0.01),
    envvar="DESCRIPT_IAC_POLL_INTERVAL",
    help="Longest wait between polls while jobs run; polls come sooner when jobs are expected "
    "to be over [env DESCRIPT_IAC_POLL_INTERVAL].",
)
@click.option(
    "--new-state",
    is_flag=True,
    help="Start a new, empty state even though this workspace was applied with its state "
    "elsewhere (from another working directory).",
)
@click.option(
    "--max-credits",
    type=click.FloatRange(min=0),
    default=None,
    help="Spend at most this many AI credits in this apply (overrides the workspace's budget:; "
    "a project's own budget: still holds).",
)
@click.option(
    "--max-media-seconds",
    type=Duration(),
    default=None,
    help="Import at most this much media in this apply: seconds or a duration (36000, 10h) "
    "(overrides the workspace's budget:; a project's own budget: still holds).",
)
@click.option(
    "--adopt-existing",
    is_flag=True,
    help="Adopt every project the plan would create that already exists in Descript and "
    "matches without doubt (the state was missing, restored or rebuilt), then run only what "
    "is missing.",
)
@forecast_option
@refresh_option
@plan_options
@workspace_option("source")
@click.pass_context
def apply(
    ctx: click.Context,
    source: Path,
    auto_approve: bool,
    parallelism: int | None,
    as_json: bool,
    no_wait: bool,
    poll_interval: float,
    new_state: bool,
    max_credits: float | None,
    max_media_seconds: float | None,
    adopt_existing: bool,
    forecast: str,
    refresh: bool,
    targets: tuple[str, ...],
    allow_replace: bool,
    allow_forget: bool,
    replace: tuple[str, ...],
    capabilities: tuple[str, ...],
    emulator: bool,
    api_level: str,
) -> None:
    """Issue only the missing jobs for SOURCE (a workspace directory or a saved plan file).

    Picks up jobs an earlier run left unrecorded, shows the plan, asks for 'yes' (unless
    --auto-approve), then runs each project's jobs in order and records every result. With
    --refresh, drift is shown too and, once approved, recorded as accepted.

    Exit 0 when done (or nothing to do); 1 on an error, a failed job, a stale or blocked plan, a
    job left in doubt, or anything under "Needs attention" (a job left running, a job gone).
    """
    from descript_iac.apply import ApplyOptions  # the engine and httpx: only to apply
    from descript_iac.cli.progress import display
    from descript_iac.workspace import apply_workspace
    from descript_iac.workspace.applying import Costs

    g = get_globals(ctx)
    saved = None
    if source.is_file() and source.suffix.lower() not in (".yaml", ".yml"):
        saved = load_saved_plan(source)
        _refuse_changes_to_saved_plan(ctx, g, saved.state)
        source = Path(saved.workspace)
        options = saved.plan.options
        if g.state_path is None and g.backend_url is None and is_local(saved.state):
            g = dataclasses.replace(g, state_path=Path(saved.state))
        auto_approve = True  # applying a saved plan is the approval (as in Terraform)
    else:
        options = _options(targets, allow_replace, allow_forget, replace, capabilities)
    settings = _settings(g, source, emulator, capabilities, api_level)
    reporter = display(as_json=as_json, color=use_color(g))

    def show(plan: Plan) -> None:
        if not as_json:
            click.echo(complete(render_text(plan, color=use_color(g))), nl=False)

    with reporter:  # whatever happens, the live block is ended before anything else is said
        outcome = apply_workspace(
            settings,
            options,
            ApplyOptions(
                parallelism=parallelism,
                wait=not no_wait,
                poll_interval=poll_interval,
                timing=settings.timing,
            ),
            reporter,
            _confirm(auto_approve, show),
            saved,
            refresh=refresh,
            new_state=new_state,
            costs=Costs(forecast == "on", max_credits, max_media_seconds),
            adopt_existing=adopt_existing,
        )
        if outcome.result is None:  # (drift shown with --refresh was accepted: recorded now)
            reporter.unchanged(no_changes_line(msgspec.structs.replace(outcome.plan, drift=())))
        else:
            reporter.complete(outcome.result)
    if not outcome.ok:
        sys.exit(1)


def _show_plan(
    result: Plan,
    fmt: str,
    complete: Callable[[str], str],
    color: bool,
    costs: Forecast | None,
    workspace: Workspace,
) -> None:
    """The plan in its format, with its cost forecast when there is one (the forecast's and
    the JSON report's modules are imported only then: a plan pays for what it shows)."""
    tail: list[str] = []
    if costs is not None:
        from descript_iac.plan import forecast as shown_forecast
        from descript_iac.workspace.forecasting import workspace_budget

        budget = workspace_budget(workspace)
    if fmt == "json":
        from descript_iac.plan.report import render_json

        report = shown_forecast.as_json(costs, budget) if costs is not None else None
        click.echo(render_json(result, report), nl=False)
    elif fmt == "markdown":  # one comment: what exists, the plan, its forecast, within the limit
        if costs is not None:
            tail = ["", shown_forecast.markdown(costs, budget, COMMENT_LIMIT // 4)]
        text = "\n".join(tail)
        click.echo(render_markdown(result, complete, COMMENT_LIMIT - len(text)) + text, nl=False)
    else:
        click.echo(complete(render_text(result, color=color)), nl=False)
        if costs is not None:
            click.echo("\n".join(["", *shown_forecast.text_lines(costs, budget)]))
