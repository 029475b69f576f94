"""Apply: execute a plan exactly once per job, record everything, resolve what was in doubt."""

from __future__ import annotations

from descript_iac.apply.engine import ApplyOptions, ApplyResult, Engine
from descript_iac.apply.reconcile import reconcile

__all__ = ["ApplyOptions", "ApplyResult", "Engine", "reconcile"]
