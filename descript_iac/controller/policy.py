"""What may apply without a person: a pure decision from the plan and its forecast.

By default creates, steps to run, in-place updates, publishes and moves apply on their own while
the forecast's highest AI-credit estimate stays within `max_credits`; a replace, a forget, a
blocked plan, a forecast over budget or one that cannot be complete waits for approval.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from descript_iac.plan.forecast import Forecast
from descript_iac.plan.model import ActionKind, Plan

# Never applied without a person, whatever the policy lists: they cannot be undone.
ALWAYS_HELD = frozenset({ActionKind.REPLACE, ActionKind.FORGET, ActionKind.BLOCKED})
DEFAULT_AUTO = ("create", "run", "update", "publish", "move", "await", "resolve")


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    auto_apply: tuple[ActionKind, ...] = Field(default=tuple(ActionKind(k) for k in DEFAULT_AUTO))
    max_credits: float | None = Field(default=None, ge=0)  # None: no credit limit
    hold_all: bool = False  # every plan waits for approval


@dataclass(frozen=True)
class Decision:
    auto: bool
    reasons: tuple[str, ...]  # why it waits (empty when it applies on its own)


def decide(policy: Policy, plan: Plan, forecast: Forecast | None) -> Decision:
    reasons: list[str] = []
    if policy.hold_all:
        reasons.append("the policy holds every plan for approval")
    allowed = set(policy.auto_apply) - ALWAYS_HELD
    held_kinds = sorted({a.kind.value for a in plan.actions if a.kind not in allowed})
    for kind in held_kinds:
        count = sum(1 for a in plan.actions if a.kind.value == kind)
        reasons.append(f"{count} {kind} action(s) need approval")
    if policy.max_credits is not None and plan.has_changes:
        if forecast is None:
            reasons.append("no forecast: the credit budget cannot be checked")
        elif forecast.ai_credits.high > policy.max_credits:
            reasons.append(
                f"up to {forecast.ai_credits.high:g} AI credits forecast, over the policy's "
                f"{policy.max_credits:g}"
            )
    return Decision(not reasons, tuple(reasons))
