"""Apply: execute a plan exactly once per job, record everything, resolve what was in doubt."""

from __future__ import annotations

from descript_iac.apply.engine import ApplyOptions, Engine
from descript_iac.apply.reconcile import reconcile
from descript_iac.apply.result import ApplyResult, Failure

__all__ = ["ApplyOptions", "ApplyResult", "Engine", "Failure", "reconcile"]
