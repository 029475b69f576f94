"""`descript-iac costs`: what a workspace has spent, from its state (state/spend.py)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from descript_iac.cli.context import echo, get_globals, use_color
from descript_iac.cli.workspace_option import workspace_option
from descript_iac.state.spend import SpendReport, Spent, spend_report
from descript_iac.terminal_text import one_line

BAR = 30  # characters of the longest bar


def _row(spent: Spent) -> dict[str, float | int]:
    return {
        "media_seconds": spent.media_seconds,
        "ai_credits": spent.ai_credits,
        "jobs": spent.jobs,
        "unknown_jobs": spent.unknown,  # their spend is unknown: not in the sums above
    }


def report_json(report: SpendReport) -> dict[str, object]:
    return {
        "total": _row(report.total),
        "projects": {a: _row(s) for a, s in sorted(report.projects.items())},
        "steps": [
            {"address": a, "step": step, **_row(s)} for (a, step), s in sorted(report.steps.items())
        ],
        "models": {m: _row(s) for m, s in sorted(report.models.items())},
        "days": {d: _row(s) for d, s in sorted(report.days.items())},
        "weeks": {w: _row(s) for w, s in sorted(report.weeks.items())},
        "undated": _row(report.undated),
    }


def _sections(report: SpendReport) -> list[tuple[str, dict[str, Spent]]]:
    return [
        ("project", dict(sorted(report.projects.items()))),
        ("model", dict(sorted(report.models.items()))),
        ("week", dict(sorted(report.weeks.items()))),
        ("day", dict(sorted(report.days.items()))),
    ]


def _num(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def _cell(value: float, spent: Spent) -> str:
    """A sum, with "+ unknown" when some of its jobs' numbers were not sane (never 0)."""
    return _num(value) + (" + unknown" if spent.unknown else "")


def _unknown(spent: Spent) -> str:
    if not spent.unknown:
        return ""
    return (
        f" The spend of {spent.unknown} job(s) is unknown: the API sent a number that was not "
        "sane (not counted above)."
    )


def report_markdown(report: SpendReport) -> str:
    total = report.total
    lines = [
        "### Spend",
        "",
        f"{_num(total.media_seconds)} media seconds and {_num(total.ai_credits)} AI credits in "
        f"{total.jobs} job(s).{_unknown(total)}",
    ]
    for name, rows in _sections(report):
        if not rows:
            continue
        lines += ["", f"| {name} | media seconds | AI credits | jobs |", "|---|---:|---:|---:|"]
        for key, s in rows.items():
            cell = f"`{key}`" if name == "project" else key
            media, credits = _cell(s.media_seconds, s), _cell(s.ai_credits, s)
            lines.append(f"| {cell} | {media} | {credits} | {s.jobs} |")
    return "\n".join(lines) + "\n"


def _bar(value: float, largest: float) -> str:
    return "█" * (round(BAR * value / largest) if largest else 0)


def print_text(report: SpendReport, color: bool) -> None:
    console = Console(highlight=False, no_color=not color, soft_wrap=True)
    total = report.total
    console.print(
        f"Spent: {_num(total.media_seconds)} media seconds and {_num(total.ai_credits)} AI "
        f"credits in {total.jobs} job(s).{_unknown(total)}",
        markup=False,
    )
    for name, rows in _sections(report):
        if not rows:
            continue
        table = Table(title=f"by {name}", title_justify="left", box=None, pad_edge=False)
        table.add_column(name, no_wrap=True)
        table.add_column("media s", justify="right")
        table.add_column("credits", justify="right")
        table.add_column("jobs", justify="right")
        table.add_column("credits", style="cyan", no_wrap=True)
        largest = max(s.ai_credits for s in rows.values())
        for key, s in rows.items():
            table.add_row(  # Text: a model's name is never read as rich markup
                Text(one_line(key)),
                _cell(s.media_seconds, s),
                _cell(s.ai_credits, s),
                str(s.jobs),
                _bar(s.ai_credits, largest),
            )
        console.print()
        console.print(table)


@click.command()
@click.argument("directory", default=".", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
)
@click.option(
    "--target", "targets", multiple=True, metavar="ADDRESS", help="Only this project (repeatable)."
)
@click.pass_context
@workspace_option()
def costs(ctx: click.Context, directory: Path, fmt: str, targets: tuple[str, ...]) -> None:
    """What DIRECTORY's workspace has spent, from its state: media seconds and AI credits per
    project, model, ISO week and day (forgotten projects' past included). No API call is made;
    jobs run outside descript-iac are not in the state (see `plan --refresh`)."""
    g = get_globals(ctx)
    doc = g.settings(directory, False).store().read()
    report = spend_report(doc, set(targets) or None)
    if fmt == "json":
        echo(json.dumps(report_json(report), indent=2, sort_keys=True))
    elif fmt == "markdown":
        echo(report_markdown(report).rstrip("\n"))
    else:
        print_text(report, use_color(g))
