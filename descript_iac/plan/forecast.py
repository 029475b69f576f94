"""What a plan will cost before it is applied (issue #23): media seconds for every import, AI
credits for every agent step, as an estimate with a range, and what each estimate rests on.

Pure: the durations of the media (probed by api/media_probe.py) and the credits of the steps
this drive already ran (from the state) come in as data.

- An import costs the durations of the media files it carries (exact where the file was probed;
  rounded up to a whole second at the high end, as the API bills whole seconds). A multitrack
  sequence is assembled from media counted on their own and adds nothing: the emulator bills
  it so, and the Descript docs give no price for it (an assumption, said in the forecast). A
  media item that could not be probed is unknown, never zero: the total says so.
- An agent step costs what this drive's recorded steps of the same model cost: the median, up
  to the 90th percentile, at least the smallest. With fewer than 3 recorded steps of the model,
  those of every model; with none, a documented default (`DEFAULT_CREDITS`).
- A publish costs neither (the docs bill none).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from descript_iac.plan.markdown import code, text
from descript_iac.plan.model import Action, ActionKind, Plan
from descript_iac.plan.samples import StepSample

if TYPE_CHECKING:
    pass

# With no recorded step on this drive: the seed docs' example agent job used 32 credits.
DEFAULT_CREDITS = (5.0, 32.0, 64.0)  # low, expected, high
MIN_SAMPLES = 3  # recorded steps of a model before its own figures are used
SEQUENCE = "tracks"  # how a desired sequence's media item shows in `MediaFacts`


@dataclass(frozen=True)
class Estimate:
    low: float
    expected: float
    high: float

    def __add__(self, other: Estimate) -> Estimate:
        return Estimate(
            self.low + other.low, self.expected + other.expected, self.high + other.high
        )

    def text(self, unit: str) -> str:
        if self.low == self.high:
            return f"{_num(self.expected)} {unit}"
        return f"~{_num(self.expected)} {unit} ({_num(self.low)}-{_num(self.high)})"


ZERO = Estimate(0.0, 0.0, 0.0)


@dataclass(frozen=True)
class MediaFact:
    """One media item of a desired project: its probed duration (None: unknown, with the
    reason), or `sequence` for a multitrack item."""

    seconds: float | None
    reason: str = ""
    sequence: bool = False


@dataclass(frozen=True)
class ActionCost:
    address: str
    label: str
    media_seconds: Estimate  # of the media probed (a minimum when `unknown` is not empty)
    ai_credits: Estimate
    basis: str
    unknown: tuple[str, ...] = ()  # "name (reason)" of the media that could not be probed


@dataclass(frozen=True)
class Forecast:
    actions: tuple[ActionCost, ...]
    media_seconds: Estimate  # of the known media
    ai_credits: Estimate
    unknown_media: int
    notes: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return self.unknown_media == 0


@dataclass(frozen=True)
class Budget:
    """What one apply may spend (None: no limit), in all and, in `projects`, on the jobs of
    each project that has a budget of its own (address -> its budget)."""

    ai_credits: float | None = None
    media_seconds: float | None = None
    projects: tuple[tuple[str, Budget], ...] = ()

    @property
    def set(self) -> bool:
        return self.ai_credits is not None or self.media_seconds is not None or bool(self.projects)

    def of_project(self, address: str) -> Budget | None:
        return next((b for a, b in self.projects if a == address), None)


def credit_estimate(model: str, samples: Sequence[StepSample]) -> tuple[Estimate, str]:
    """The credits an agent step of `model` is expected to cost, and what that rests on."""
    own = sorted(s.credits for s in samples if s.model == model)
    pool, whose = own, f"model {model}"
    if len(own) < MIN_SAMPLES:
        pool, whose = sorted(s.credits for s in samples), "all models"
    if not pool:
        low, expected, high = DEFAULT_CREDITS
        return Estimate(low, expected, high), "no recorded step on this drive: the default"
    high = pool[min(len(pool) - 1, math.ceil(0.9 * len(pool)) - 1)]
    return (
        Estimate(pool[0], statistics.median(pool), high),
        f"median and 90th percentile of {len(pool)} recorded step(s) of {whose}",
    )


def forecast(
    plan: Plan,
    media: Mapping[tuple[str, str], MediaFact],
    samples: Sequence[StepSample],
    models: Mapping[tuple[str, str], str],
) -> Forecast:
    """The cost of every job `plan` sends. `media`: (address, media name) -> what is known of
    it; `models`: (address, step id) -> the step's model ("default" when unset)."""
    costs: list[ActionCost] = []
    for project in plan.projects:
        for action in project.actions:
            cost = _cost(action, media, samples, models)
            if cost is not None:
                costs.append(cost)
    seconds = sum((c.media_seconds for c in costs), ZERO)
    credits = sum((c.ai_credits for c in costs), ZERO)
    unknown = sum(len(c.unknown) for c in costs)
    notes = []
    if any(f.sequence for f in media.values()):
        notes.append("a multitrack sequence is counted as the media it is made of (assumed)")
    if unknown:
        notes.append(f"{unknown} media item(s) could not be probed: the media total is a minimum")
    return Forecast(tuple(costs), seconds, credits, unknown, tuple(notes))


def _cost(
    action: Action,
    media: Mapping[tuple[str, str], MediaFact],
    samples: Sequence[StepSample],
    models: Mapping[tuple[str, str], str],
) -> ActionCost | None:
    if not action.issues_job or action.kind is ActionKind.PUBLISH:
        return None
    if action.step_id is not None and action.job_type == "agent":
        model = models.get((action.address, action.step_id), "default")
        credits, basis = credit_estimate(model, samples)
        return ActionCost(action.address, action.label, ZERO, credits, basis)
    if action.kind not in (ActionKind.CREATE, ActionKind.REPLACE, ActionKind.UPDATE):
        return None
    seconds = 0.0
    unknown = []
    for name in action.media:
        fact = media.get((action.address, name))
        if fact is None or fact.sequence:
            continue
        if fact.seconds is None:
            unknown.append(f"{name} ({fact.reason or 'not probed'})")
        else:
            seconds += fact.seconds
    estimate = Estimate(seconds, seconds, float(math.ceil(seconds)))
    return ActionCost(action.address, action.label, estimate, ZERO, "media probed", tuple(unknown))


def over_budget(forecast_: Forecast, budget: Budget) -> list[str]:
    """What the forecast's high end would spend past `budget`, in all and per project (empty:
    it fits)."""
    problems = _over(forecast_.ai_credits, forecast_.media_seconds, forecast_.unknown_media, budget)
    for address, own in budget.projects:
        costs = [c for c in forecast_.actions if c.address == address]
        credits = sum((c.ai_credits for c in costs), ZERO)
        seconds = sum((c.media_seconds for c in costs), ZERO)
        unknown = sum(len(c.unknown) for c in costs)
        problems += [f"{address}: {p}" for p in _over(credits, seconds, unknown, own, "its")]
    return problems


def _over(
    credits: Estimate, seconds: Estimate, unknown: int, budget: Budget, whose: str = "the"
) -> list[str]:
    problems = []
    if budget.ai_credits is not None and credits.high > budget.ai_credits:
        problems.append(
            f"up to {_num(credits.high)} AI credits forecast, over {whose} budget of "
            f"{_num(budget.ai_credits)}"
        )
    if budget.media_seconds is not None:
        if unknown:
            problems.append(
                f"{unknown} media item(s) of unknown duration, with {whose} budget of "
                f"{_num(budget.media_seconds)} media seconds"
            )
        elif seconds.high > budget.media_seconds:
            problems.append(
                f"up to {_num(seconds.high)} media seconds forecast, over {whose} budget of "
                f"{_num(budget.media_seconds)}"
            )
    return problems


def _num(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 or value == int(value) else f"{value:.1f}"


# --- how a forecast reads -------------------------------------------------------------------


def summary_line(f: Forecast) -> str:
    media = f.media_seconds.text("media seconds")
    if not f.complete:
        media = f"at least {_num(f.media_seconds.low)} media seconds ({f.unknown_media} unknown)"
    return f"Cost forecast: {media} and {f.ai_credits.text('AI credits')}."


def text_lines(f: Forecast, budget: Budget | None = None) -> list[str]:
    if not f.actions:
        return []
    lines = [summary_line(f)]
    for c in f.actions:
        lines.append(f"  {c.address}  {c.label}: {_action_cost(c)}  [{c.basis}]")
    lines += [f"  note: {n}" for n in f.notes]
    if budget is not None and budget.set:
        problems = over_budget(f, budget)
        lines.append(
            f"Budget ({_budget_text(budget)}): "
            + ("over: " + "; ".join(problems) if problems else "the forecast fits")
        )
    return lines


def markdown(f: Forecast, budget: Budget | None = None, limit: int | None = None) -> str:
    """The forecast as Markdown; with `limit`, its table stops before the text would pass
    `limit` characters (the summary, the notes and the budget are always shown)."""
    if not f.actions:
        return ""
    rows = [
        "### Cost forecast",
        "",
        text(summary_line(f)),
        "",
        "| project | action | cost | basis |",
        "|---|---|---|---|",
    ]
    tail = ["", *(f"- {text(n)}" for n in f.notes)]
    if budget is not None and budget.set:
        problems = over_budget(f, budget)
        verdict = "over: " + "; ".join(problems) if problems else "the forecast fits"
        tail.append(f"- Budget ({_budget_text(budget)}): {verdict}")
    room = None if limit is None else limit - sum(len(r) + 1 for r in [*rows, *tail]) - 200
    for k, c in enumerate(f.actions):
        row = f"| {code(c.address)} | {text(c.label)} | {text(_action_cost(c))} | {text(c.basis)} |"
        if room is not None:
            room -= len(row) + 1
            if room < 0:
                rows.append(f"| | {len(f.actions) - k} more action(s): see the full plan | | |")
                break
        rows.append(row)
    return "\n".join([*rows, *tail]).rstrip() + "\n"


def as_json(f: Forecast, budget: Budget | None = None) -> dict[str, Any]:
    def est(e: Estimate) -> dict[str, float]:
        return {"low": e.low, "expected": e.expected, "high": e.high}

    data: dict[str, Any] = {
        "media_seconds": est(f.media_seconds),
        "ai_credits": est(f.ai_credits),
        "complete": f.complete,
        "unknown_media": f.unknown_media,
        "notes": list(f.notes),
        "actions": [
            {
                "address": c.address,
                "action": c.label,
                "media_seconds": est(c.media_seconds),
                "ai_credits": est(c.ai_credits),
                "basis": c.basis,
                "unknown": list(c.unknown),
            }
            for c in f.actions
        ],
    }
    if budget is not None and budget.set:
        data["budget"] = {
            "ai_credits": budget.ai_credits,
            "media_seconds": budget.media_seconds,
            "projects": {
                address: {"ai_credits": own.ai_credits, "media_seconds": own.media_seconds}
                for address, own in budget.projects
            },
            "over": over_budget(f, budget),
        }
    return data


def _action_cost(c: ActionCost) -> str:
    parts = []
    if c.unknown:
        parts.append("media seconds unknown for " + ", ".join(c.unknown))
    if c.media_seconds.high:
        parts.append(c.media_seconds.text("media seconds"))
    if c.ai_credits.high:
        parts.append(c.ai_credits.text("AI credits"))
    return ", ".join(parts) or "nothing"


def _budget_text(budget: Budget) -> str:
    text = _limits(budget) + " per apply" if _limits(budget) else ""
    if len(budget.projects) > 5:
        own = f"{len(budget.projects)} projects with a budget of their own"
    else:
        own = "; ".join(f"{address}: {_limits(b)}" for address, b in budget.projects)
    return "; ".join(t for t in (text, own) if t)


def _limits(budget: Budget) -> str:
    parts = []
    if budget.ai_credits is not None:
        parts.append(f"{_num(budget.ai_credits)} AI credits")
    if budget.media_seconds is not None:
        parts.append(f"{_num(budget.media_seconds)} media seconds")
    return ", ".join(parts)
