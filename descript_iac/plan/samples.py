"""What the agent steps a state recorded cost: the samples a forecast's credit estimate rests on
(plan/forecast.py). Its own module: every plan collects them (and the workspace cache keeps them,
workspace/incremental.py), most plans never show a forecast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from descript_iac.state.document import StateDocument


class StepSample(msgspec.Struct, frozen=True):
    """What one recorded agent step cost on this drive."""

    model: str
    credits: float


def step_samples(doc: StateDocument) -> list[StepSample]:
    """What the steps this state recorded cost (successful ones: a failed step's cost says
    little of the next one's)."""
    return [
        StepSample(step.model or "default", float(step.ai_credits_used))
        for project in doc.projects.values()
        for step in project.steps
        if step.status == "success" and step.ai_credits_used is not None  # (None: unknown)
    ]
