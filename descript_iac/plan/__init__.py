"""The plan: diff the desired state against the recorded state (pure), and show it."""

from __future__ import annotations

from descript_iac.plan.diff import compute_plan
from descript_iac.plan.model import Action, ActionKind, Plan, PlanOptions, ProjectPlan

__all__ = ["Action", "ActionKind", "Plan", "PlanOptions", "ProjectPlan", "compute_plan"]
