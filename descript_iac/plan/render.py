"""Show a plan as text for people (coloured on a terminal); Markdown for pull-request comments is
`markdown.py`, JSON for machines `report.py`. All three show what a reviewer must see: the
prompt (and model) of every step that will run, what an import sends (URLs without their query
strings) and what else a job sets (name, team access, folder, callback URL, exports, the
composition a step works on, publish settings), old -> new of what changed, and drift found by
`--refresh`. Never a secret: values from the environment are masked, and everything passes
`redact`."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import click

from descript_iac.plan.model import Action, ActionKind, Change, ExistingProject, Plan
from descript_iac.redact import redact
from descript_iac.terminal_text import visible

COLOURS = {
    ActionKind.CREATE: "green",
    ActionKind.UPDATE: "yellow",
    ActionKind.REPLACE: "magenta",
    ActionKind.RUN: "cyan",
    ActionKind.FORGET: "red",
    ActionKind.BLOCKED: "red",
    ActionKind.AWAIT: "blue",
    ActionKind.RESOLVE: "yellow",
    ActionKind.MOVE: "yellow",
    ActionKind.PUBLISH: "green",
}
DRIFT_HINT = (
    "accept it with `descript-iac apply --refresh` (records what the API proves), or adopt a "
    "project made elsewhere with `descript-iac import ADDRESS PROJECT_ID`"
)


def up_to_date_count(plan: Plan) -> int:
    """Projects with nothing to do and no drift: a project changed outside descript-iac (found
    by `--refresh`) is not up to date, even when the plan has nothing to send for it."""
    drifted = {d.address for d in plan.drift}
    return sum(1 for address in plan.up_to_date if address not in drifted)


def no_changes_line(plan: Plan) -> str:
    """The headline of a plan with no actions; it never contradicts the drift below it."""
    count = up_to_date_count(plan)
    noun = "project is" if count == 1 else "projects are"
    if not plan.drift:
        return f"No changes. {count} {noun} up to date."
    drifted = len({d.address for d in plan.drift})
    return (
        f"No jobs to send, but Descript differs from the state: {len(plan.drift)} change(s) "
        f"made outside descript-iac on {drifted} project(s) (Drift, below). {count} {noun} "
        "up to date."
    )


def render_text(plan: Plan, color: bool = False) -> str:
    """The plan as text. Values a user wrote or the API returned pass `terminal_text.visible`;
    the only escape sequences in the result are the colours painted here (each painted piece
    stands as a placeholder while the text is made safe)."""
    painted: list[str] = []

    def paint(text: str, kind: ActionKind, bold: bool = False) -> str:
        if not color:
            return text
        painted.append(click.style(text, fg=COLOURS[kind], bold=bold))
        return f"\ue000{len(painted) - 1}\ue001"

    return _painted(_render_text(plan, paint), painted)


def _painted(text: str, painted: list[str]) -> str:
    safe = visible(text)
    if not painted:
        return safe
    return re.sub("\ue000(\\d+)\ue001", lambda m: painted[int(m.group(1))], safe)


def _render_text(plan: Plan, paint: Callable[..., str]) -> str:
    if not plan.has_changes:
        return redact("\n".join([no_changes_line(plan), *drift_lines(plan)])) + "\n"
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
        labels = [a.label for a in project.actions]
        width = max(map(len, labels))
        pad = " " * (4 + 3 + 1 + width + 4)
        for action, label in zip(project.actions, labels, strict=True):
            lines.append(
                f"    {paint(action.symbol.rjust(3), action.kind)} {label.ljust(width)}  "
                f"{action.reason}"
            )
            for detail in details(action):
                lines.append(pad + detail.replace("\n", "\n" + pad + "  "))
        lines.append("")
    if plan.untargeted:
        lines.append(f"Not targeted (left as they are): {', '.join(plan.untargeted)}")
    if up_to_date_count(plan):
        lines.append(f"Up to date: {up_to_date_count(plan)} project(s).")
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
    lines += _text_existing(plan)
    lines += drift_lines(plan)
    return redact("\n".join(lines)) + "\n"


def _value(text: str | None, known: bool = True) -> str:
    if not known:
        return "(not recorded)"
    return "(none)" if text is None else f'"{text}"' if " " in text.strip() else text


def change_text(change: Change) -> str:
    return f"{change.what}: {_value(change.old, change.old_known)} -> {_value(change.new)}"


def details(action: Action) -> list[str]:
    """What a reviewer must see of an action, one line each: prompt, what it sends, changes."""
    out = []
    if action.prompt is not None:
        model = f" (model {action.model})" if action.model else ""
        out.append(f"prompt{model}: {action.prompt}")
    out += [f"{setting.what}: {setting.value}" for setting in action.settings]
    out += [f"{sent.kind} {sent.name}: {sent.detail}" for sent in action.sends]
    out += [change_text(change) for change in action.changes]
    return out


def drift_lines(plan: Plan) -> list[str]:
    if not plan.drift:
        return []
    lines = ["", f"Drift: {len(plan.drift)} change(s) made outside descript-iac; {DRIFT_HINT}:"]
    lines += [f"  ~ {d.address}: {d.detail}" for d in plan.drift]
    return lines


EXISTING_HEAD = (
    "Exists in Descript: apply will not create these (`descript-iac apply --adopt-existing` "
    "adopts every unambiguous one):"
)
EXISTING_SYMBOL = {"exists": "<=", "ambiguous": "? ", "unproven": "? "}


def existing_lines(existing: Sequence[ExistingProject]) -> list[str]:
    """One line per address the plan would create that may exist already, with the way on."""
    return [
        f"{EXISTING_SYMBOL[e.verdict]} {e.address}: {e.detail}"
        + (f"; {e.way_on}" if e.way_on else "")
        for e in existing
    ]


def _text_existing(plan: Plan) -> list[str]:
    if not plan.existing:
        return []
    return ["", EXISTING_HEAD, *(f"  {line}" for line in existing_lines(plan.existing))]


def blocked_lines(plan: Plan) -> list[str]:
    out = []
    for action in plan.blocked:
        what = f" step {action.step_id}" if action.step_id else ""
        out.append(redact(f"  ! {action.address}{what}: {action.reason}"))
    return out
