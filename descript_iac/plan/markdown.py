"""The plan as Markdown, for a pull-request comment: literal, complete, and short enough to post.

Literal: a reviewer approves what the comment shows, so every value a user wrote or the API
returned is shown as it is, never rendered. A prompt, and anything else that may span lines or
hold Markdown (what an import sends, old -> new, drift, blocked reasons), sits in a fenced code
block whose fence is longer than any run of backticks inside it: nothing in it can close the
fence, start HTML (`<!-- -->`, `<details>`), emphasis or a link, and its newlines stay. Text
outside a fence (an address, a reason) has each punctuation character that could start Markdown
escaped with a backslash, which CommonMark (GitHub's and GitLab's Markdown) shows as the
character itself; the
commands a reason suggests are code spans. Control characters are shown as escapes
(`terminal_text.visible`), secrets are masked (`redact`, value by value, before escaping: a
secret escaped first would no longer be found).

Short enough: a GitHub or GitLab comment holds at most 65,536 characters. A longer plan gives
the summary, the first projects' actions in full, and says that the rest is in the full plan
(the saved plan, `descript-iac show PLANFILE`, or the text output).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from descript_iac.plan.model import Action, Plan, ProjectPlan
from descript_iac.plan.render import (
    DRIFT_HINT,
    change_text,
    existing_lines,
    no_changes_line,
    up_to_date_count,
)
from descript_iac.redact import redact
from descript_iac.terminal_text import one_line, visible

COMMENT_LIMIT = 65_536  # characters in a GitHub (and GitLab) comment
# What can start Markdown mid-line on GitHub or GitLab: emphasis, code, links and images, HTML,
# strikethrough, tables, math; and before a word: entities, emoji, mentions, references. An
# underscore between two letters or digits cannot start or end emphasis, so it stays. (Escaped
# text never starts a line here, so what matters only there, `-` `+` `=` `1.`, stays too.)
# CommonMark shows a backslash-escaped punctuation character as the character itself.
_PUNCTUATION = re.compile(r"[\\`*\[\]<>|~$]|[&:@#](?=[\w#+-])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_BACKTICKS = re.compile(r"`+")
# A command a reason suggests (as `cli/suggestions.py` finds them, to complete them).
_COMMAND = re.compile(r"`(descript-iac [^`\n]*)`")
_RESERVE = 1_000  # room kept for the note that the rest is not shown


def text(value: str) -> str:
    """`value` on one line, shown literally outside a code block (punctuation escaped)."""
    return _PUNCTUATION.sub(lambda m: "\\" + m.group(0), one_line(redact(value)))


def code(value: str) -> str:
    """`value` as a code span whatever backticks it holds (one more than its longest run)."""
    value = one_line(redact(value))
    ticks = "`" * (1 + max((len(run) for run in _BACKTICKS.findall(value)), default=0))
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{ticks}{pad}{value}{pad}{ticks}"


def fenced(value: str) -> list[str]:
    """`value` as a fenced code block: its lines exactly (control characters shown), under a
    fence no line of it can close."""
    value = visible(redact(value))
    ticks = "`" * max(3, 1 + max((len(run) for run in _BACKTICKS.findall(value)), default=0))
    return [f"{ticks}text", value, ticks]


def prose(value: str, commands: Callable[[str], str]) -> str:
    """A reason: escaped text, with the commands it suggests (completed by `commands`) as code
    spans that can be pasted."""
    value = commands(value)
    out, at = [], 0
    for found in _COMMAND.finditer(value):
        out += [text(value[at : found.start()]), code(found.group(1))]
        at = found.end()
    return "".join([*out, text(value[at:])])


def _action(action: Action, commands: Callable[[str], str]) -> list[str]:
    out = [f"{code(action.symbol)} **{text(action.label)}**: {prose(action.reason, commands)}", ""]
    if action.prompt is not None:
        model = f" (model {code(action.model)})" if action.model else ""
        out += [f"Prompt{model}:", "", *fenced(action.prompt), ""]
    sent = [f"{s.what}: {s.value}" for s in action.settings]
    sent += [f"{s.kind} {s.name}: {s.detail}" for s in action.sends]
    if sent:
        out += ["Sends:" if action.issues_job else "Details:", "", *fenced("\n".join(sent)), ""]
    changed = []
    for change in action.changes:
        if change.what == "prompt" and change.old_known:  # a prompt on lines of its own
            out += ["Prompt before:", "", *fenced(change.old or "(none)"), ""]
            out += ["Prompt now:", "", *fenced(change.new or "(none)"), ""]
        else:
            changed.append(change_text(change))
    if changed:
        out += ["Changes (old -> new):", "", *fenced("\n".join(changed)), ""]
    return out


def _project(project: ProjectPlan, commands: Callable[[str], str]) -> str:
    head = project.headline
    out = [f"#### {code(head.symbol)} {code(project.address)} ({text(project.where)})", ""]
    for action in project.actions:
        out += _action(action, commands)
    while out[-1] == "":
        out.pop()
    return "\n".join(out)


def _listing(title: str, lines: list[str], budget: int) -> list[str]:
    """A titled code block of `lines`, as many as fit in `budget` characters."""
    shown: list[str] = []
    used = 0
    for line in lines:
        if len(line) > budget:  # one line longer than the room (a server's very long text)
            line = line[: budget - 40] + f"... ({len(line):,} characters, see the full plan)"
        used += len(line) + 1
        if used > budget and shown:
            shown.append(f"... and {len(lines) - len(shown)} more (see the full plan)")
            break
        shown.append(line)
    return ["", title, "", *fenced("\n".join(shown))]


def _drift(plan: Plan, budget: int, commands: Callable[[str], str]) -> list[str]:
    if not plan.drift:
        return []
    title = f"**Drift: {len(plan.drift)} change(s) made outside descript-iac**"
    lines = [f"~ {d.address}: {d.detail}" for d in plan.drift]
    return [*_listing(title, lines, budget), "", f"To {prose(DRIFT_HINT, commands)}."]


def render_markdown(
    plan: Plan,
    commands: Callable[[str], str] = lambda command: command,
    limit: int = COMMENT_LIMIT,
) -> str:
    """The plan as Markdown of at most `limit` characters. `commands` completes the commands a
    reason suggests (the CLI adds this run's --workspace and --state). The projects the plan
    would create that may already exist in Descript (`plan.existing`, workspace/existing.py) are
    shown first: apply will not create them."""
    existing = existing_lines(plan.existing)
    listing = limit // 5  # the most the blocked list, or the drift, may take
    if not plan.has_changes:
        head = ["### descript-iac plan", "", text(no_changes_line(plan))]
        return "\n".join([*head, *_drift(plan, listing, commands)]) + "\n"
    out = [
        "### descript-iac plan",
        "",
        f"**{text(plan.summary())}** Estimated jobs: {plan.estimated_jobs}.",
        "",
    ]
    if existing:
        title = "**Exists in Descript: apply will not create these**"
        out += [*_listing(title, [commands(line) for line in existing], listing)[1:], ""]
    tail = []
    if plan.blocked:
        title = f"> [!WARNING]\n> The plan is blocked: {len(plan.blocked)} action(s)."
        lines = [
            f"! {a.address}{f' step {a.step_id}' if a.step_id else ''}: {commands(a.reason)}"
            for a in plan.blocked
        ]
        tail += [*_listing(title, lines, listing)[1:], ""]
    tail += [
        f"<sub>State serial {plan.serial}, lineage {code(plan.lineage)}. "
        f"{up_to_date_count(plan)} project(s) up to date.</sub>",
        *_drift(plan, listing, commands),
    ]
    room = limit - _RESERVE - sum(len(line) + 1 for line in [*out, *tail])
    used = 0
    shown = 0
    for project in plan.projects:
        section = _project(project, commands)
        if used + len(section) + 2 > room:
            break
        out += [section, ""]
        used += len(section) + 2
        shown += 1
    if shown < len(plan.projects):
        rest = sum(len(p.actions) for p in plan.projects[shown:])
        out += [
            f"> [!NOTE]\n> {len(plan.projects) - shown} more project(s) with {rest} action(s) "
            f"are not shown here: the comment would pass the {COMMENT_LIMIT:,}-character limit "
            "of a GitHub or GitLab comment. The full plan is the plan saved with `--out` (see "
            "it with `descript-iac show PLANFILE`), and the text output of `descript-iac plan`.",
        ]
    return "\n".join([*out, *tail]) + "\n"
