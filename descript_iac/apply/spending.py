"""What an apply may still spend (issue #23): no new job is sent once what the run spent plus
the high estimate of what it has in flight or in doubt, plus this job's high estimate, would
pass the budget. What is left is left for the next apply; nothing is lost.

The same holds for a project with a budget of its own, counting only its jobs: once its budget
would be passed, no new job of that project is sent, and the other projects go on.

A job's estimate comes from the plan's forecast (plan/forecast.py); a job whose media could
not be probed is unknown, and under a media budget it is not sent. A job in doubt counts as
spent: it may have run."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from descript_iac.plan.forecast import Budget, Forecast
from descript_iac.plan.model import Action

Key = tuple[str, str]  # (address, action label)


@dataclass(frozen=True)
class Refusal:
    """Why a job is not sent: `project` is None for the apply's budget (nothing more is sent),
    else the address whose own budget it would pass (nothing more of that project)."""

    reason: str
    project: str | None = None


@dataclass
class Spending:
    budget: Budget
    forecast: Forecast | None = None
    _pending: dict[Key, tuple[float, float]] = field(default_factory=dict)
    _high: dict[Key, tuple[float, float]] = field(default_factory=dict)
    _spent: dict[str, tuple[float, float]] = field(default_factory=dict)  # address -> used

    def __post_init__(self) -> None:
        for cost in self.forecast.actions if self.forecast else ():
            media = math.inf if cost.unknown else cost.media_seconds.high
            self._high[(cost.address, cost.label)] = (cost.ai_credits.high, media)

    def refusal(self, action: Action, spent_credits: float, spent_media: float) -> Refusal | None:
        """Why `action`'s job must not be sent now (None: it fits)."""
        if not self.budget.set:
            return None
        high = self._high.get((action.address, action.label), (0.0, 0.0))
        why = _passes(self.budget, "the", (spent_credits, spent_media), self._pending, high)
        if why is not None:
            return Refusal(f"{why} for {action.address} {action.label}")
        own = self.budget.of_project(action.address)
        if own is None:
            return None
        spent = self._spent.get(action.address, (0.0, 0.0))
        pending = {k: v for k, v in self._pending.items() if k[0] == action.address}
        why = _passes(own, "its", spent, pending, high)
        if why is not None:
            return Refusal(f"{why} for {action.label}", action.address)
        return None

    def sent(self, action: Action) -> None:
        key = (action.address, action.label)
        self._pending[key] = self._high.get(key, (0.0, 0.0))

    def stopped(self, action: Action, credits: float, media: float) -> None:
        """The job stopped having used `credits` and `media` seconds: no longer an estimate."""
        self._pending.pop((action.address, action.label), None)
        before = self._spent.get(action.address, (0.0, 0.0))
        self._spent[action.address] = (before[0] + credits, before[1] + media)


def _passes(
    budget: Budget,
    whose: str,
    spent: tuple[float, float],
    pending: dict[Key, tuple[float, float]],
    high: tuple[float, float],
) -> str | None:
    """How sending a job of `high` (credits, media) estimate would pass `budget`, with `spent`
    used and `pending` in flight or in doubt (None: it would not)."""
    in_credits = _total(c for c, _ in pending.values())
    in_media = _total(m for _, m in pending.values())
    limit = budget.ai_credits
    if limit is not None and spent[0] + in_credits + high[0] > limit:
        return (
            f"{whose} AI credit budget ({limit:g}): {spent[0]:g} spent, up to {in_credits:g} "
            f"in flight, up to {high[0]:g}"
        )
    limit = budget.media_seconds
    if limit is not None and spent[1] + in_media + high[1] > limit:
        what = "of unknown length" if math.isinf(high[1]) else f"up to {high[1]:g}"
        return (
            f"{whose} media seconds budget ({limit:g}): {spent[1]:g} spent, up to "
            f"{in_media:g} in flight, {what}"
        )
    return None


def _total(values: Iterable[float]) -> float:
    return sum(values, 0.0)
