"""What an apply may still spend (issue #23): no new job is sent once what the run spent plus
the high estimate of what it has in flight or in doubt, plus this job's high estimate, would
pass the budget. What is left is left for the next apply; nothing is lost.

A job's estimate comes from the plan's forecast (plan/forecast.py); a job whose media could
not be probed is unknown, and under a media budget it is not sent. A job in doubt counts as
spent: it may have run."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from descript_iac.plan.forecast import Budget, Forecast
from descript_iac.plan.model import Action


@dataclass
class Spending:
    budget: Budget
    forecast: Forecast | None = None
    _pending: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    _high: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for cost in self.forecast.actions if self.forecast else ():
            media = math.inf if cost.unknown else cost.media_seconds.high
            self._high[(cost.address, cost.label)] = (cost.ai_credits.high, media)

    def refusal(self, action: Action, spent_credits: float, spent_media: float) -> str | None:
        """Why `action`'s job must not be sent now (None: it fits)."""
        if not self.budget.set:
            return None
        credits, media = self._high.get((action.address, action.label), (0.0, 0.0))
        in_credits = sum(c for c, _ in self._pending.values())
        in_media = sum(m for _, m in self._pending.values())
        limit = self.budget.ai_credits
        if limit is not None and spent_credits + in_credits + credits > limit:
            return (
                f"the AI credit budget ({limit:g}): {spent_credits:g} spent, up to "
                f"{in_credits:g} in flight, up to {credits:g} for {action.address} "
                f"{action.label}"
            )
        limit = self.budget.media_seconds
        if limit is not None and spent_media + in_media + media > limit:
            what = "of unknown length" if math.isinf(media) else f"up to {media:g}"
            return (
                f"the media seconds budget ({limit:g}): {spent_media:g} spent, up to "
                f"{in_media:g} in flight, {what} for {action.address} {action.label}"
            )
        return None

    def sent(self, action: Action) -> None:
        key = (action.address, action.label)
        self._pending[key] = self._high.get(key, (0.0, 0.0))

    def stopped(self, action: Action) -> None:
        """The job stopped: what it used is in the run's result, no longer an estimate."""
        self._pending.pop((action.address, action.label), None)
