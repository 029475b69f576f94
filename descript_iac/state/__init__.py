"""The state: what descript-iac made in Descript (document, journal, lock, job cache)."""

from __future__ import annotations

from descript_iac.state.document import (
    ImportFacets,
    Intent,
    ProjectState,
    StateDocument,
    StepRecord,
)
from descript_iac.state.store import LocalStateStore, StateStore

__all__ = [
    "ImportFacets",
    "Intent",
    "LocalStateStore",
    "ProjectState",
    "StateDocument",
    "StateStore",
    "StepRecord",
]
