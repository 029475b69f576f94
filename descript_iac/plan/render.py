"""Show a plan: text for people (coloured on a terminal), JSON for machines (its schema is
`schemas/plan.schema.json`), Markdown for pull-request comments. Never a secret: plans carry
addresses, step ids, media and composition names, reasons and digests only."""

from __future__ import annotations

import json
from typing import Any

import click
from pydantic import BaseModel, ConfigDict

from descript_iac.plan.model import PLAN_FORMAT_VERSION, ActionKind, Plan
from descript_iac.redact import redact

COLOURS = {
    ActionKind.CREATE: "green",
    ActionKind.UPDATE: "yellow",
    ActionKind.REPLACE: "magenta",
    ActionKind.RUN: "cyan",
    ActionKind.FORGET: "red",
    ActionKind.BLOCKED: "red",
    ActionKind.AWAIT: "blue",
    ActionKind.RESOLVE: "yellow",
    ActionKind.PUBLISH: "green",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ActionReport(_Strict):
    address: str
    action: str
    symbol: str
    step_id: str | None
    job_type: str | None
    reason: str
    before: str | None
    after: str | None
    media: list[str]
    compositions: list[str]


class PriorState(_Strict):
    lineage: str
    serial: int


class PlanReport(_Strict):
    """The JSON form of a plan (`plan --format json`)."""

    format_version: int
    prior_state: PriorState
    config_digest: str
    actions: list[ActionReport]
    summary: dict[str, int]
    estimated_jobs: int
    up_to_date: list[str]
    untargeted: list[str]
    blocked: bool
    text_summary: str


def no_changes_line(plan: Plan) -> str:
    count = len(plan.up_to_date)
    noun = "project is" if count == 1 else "projects are"
    return f"No changes. {count} {noun} up to date."


def report(plan: Plan) -> PlanReport:
    return PlanReport(
        format_version=PLAN_FORMAT_VERSION,
        prior_state=PriorState(lineage=plan.lineage, serial=plan.serial),
        config_digest=plan.config_digest,
        actions=[
            ActionReport(
                address=a.address,
                action=a.kind.value,
                symbol=a.symbol,
                step_id=a.step_id,
                job_type=a.job_type,
                reason=a.reason,
                before=a.before,
                after=a.after,
                media=list(a.media),
                compositions=list(a.compositions),
            )
            for a in plan.actions
        ],
        summary={**plan.counts, "up_to_date": len(plan.up_to_date)},
        estimated_jobs=plan.estimated_jobs,
        up_to_date=list(plan.up_to_date),
        untargeted=list(plan.untargeted),
        blocked=bool(plan.blocked),
        text_summary=plan.summary() if plan.has_changes else no_changes_line(plan),
    )


def render_json(plan: Plan) -> str:
    data = report(plan).model_dump(mode="json")
    return redact(json.dumps(data, indent=2, sort_keys=True)) + "\n"


def render_text(plan: Plan, color: bool = False) -> str:
    def paint(text: str, kind: ActionKind, bold: bool = False) -> str:
        return click.style(text, fg=COLOURS[kind], bold=bold) if color else text

    if not plan.has_changes:
        return no_changes_line(plan) + "\n"
    lines = [
        f"descript-iac will perform these actions (state serial {plan.serial}):",
        "",
    ]
    legend = sorted({a.kind for a in plan.actions}, key=lambda k: list(ActionKind).index(k))
    lines.append("  " + "   ".join(paint(f"{k.symbol} {k.value}", k) for k in legend))
    lines.append("")
    for project in plan.projects:
        head = project.headline
        lines.append(f"{paint(head.symbol, head, True)} {project.address}  ({project.where})")
        width = max(len(a.label) for a in project.actions)
        for action in project.actions:
            label = action.label.ljust(width)
            lines.append(
                f"    {paint(action.symbol.rjust(3), action.kind)} {label}  {action.reason}"
            )
        lines.append("")
    if plan.untargeted:
        lines.append(f"Not targeted (left as they are): {', '.join(plan.untargeted)}")
    if plan.up_to_date:
        lines.append(f"Up to date: {len(plan.up_to_date)} project(s).")
    lines.append(plan.summary())
    if plan.needs and plan.options.api_features is None:
        lines.append(
            f"Needs API features: {', '.join(plan.needs)} (Descript's 2026 API); apply checks "
            "them before sending anything (`plan --refresh` checks now)."
        )
    if plan.blocked:
        lines.append("")
        lines.append(f"The plan is blocked: {len(plan.blocked)} action(s) cannot be applied:")
        lines += blocked_lines(plan)
    return redact("\n".join(lines)) + "\n"


def blocked_lines(plan: Plan) -> list[str]:
    out = []
    for action in plan.blocked:
        what = f" step {action.step_id}" if action.step_id else ""
        out.append(redact(f"  ! {action.address}{what}: {action.reason}"))
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(plan: Plan) -> str:
    if not plan.has_changes:
        return f"### descript-iac plan\n\n{no_changes_line(plan)}\n"
    out = [
        "### descript-iac plan",
        "",
        f"**{plan.summary()}** Estimated jobs: {plan.estimated_jobs}.",
        "",
        "| | Project | Action | Reason |",
        "|---|---|---|---|",
    ]
    for action in plan.actions:
        out.append(
            f"| `{action.symbol}` | `{action.address}` | {_cell(action.label)} | "
            f"{_cell(action.reason)} |"
        )
    if plan.blocked:
        out += ["", f"> [!WARNING]\n> The plan is blocked: {len(plan.blocked)} action(s).", ""]
        for action in plan.blocked:
            what = f" step `{action.step_id}`" if action.step_id else ""
            out.append(f"- `{action.address}`{what}: {_cell(action.reason)}")
    out += [
        "",
        f"<sub>State serial {plan.serial}, lineage `{plan.lineage}`. "
        f"{len(plan.up_to_date)} project(s) up to date.</sub>",
    ]
    return redact("\n".join(out)) + "\n"


def plan_schema() -> dict[str, Any]:
    schema = PlanReport.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def render_plan_schema() -> str:
    return json.dumps(plan_schema(), indent=2, sort_keys=True) + "\n"
