"""The controller's runs: one per new revision of a workspace, from planned to applied, held,
rejected or failed, with who approved what and when. Kept in one JSON file under the data
directory (written atomically), so a restart finds the held runs again.

A run's callback secret is part of its record but never of what is shown (`public()`).
"""

from __future__ import annotations

import json
import secrets
import threading
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from descript_iac.state.atomic import write_atomically

RunStatus = Literal[
    "planning",
    "held",
    "queued",
    "applying",
    "applied",
    "failed",
    "rejected",
    "superseded",
    "interrupted",  # stopped by a shutdown: the next start plans again
]
OPEN = ("planning", "held", "queued", "applying")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Verdict(BaseModel):
    verdict: Literal["approved", "rejected"]
    by: str
    at: str


class Run(BaseModel):
    id: str
    workspace: str
    revision: str
    status: RunStatus = "planning"
    created_at: str = Field(default_factory=now_iso)
    finished_at: str | None = None
    summary: str = ""
    plan_text: str = ""
    reasons: list[str] = Field(default_factory=list)  # why it waits for approval
    drift: list[str] = Field(default_factory=list)  # Descript's drift when it was planned
    verdicts: list[Verdict] = Field(default_factory=list)
    message: str = ""  # the outcome, or what went wrong
    jobs: int = 0
    credits: float = 0.0
    failures: int = 0
    callback_secret: str = Field(default_factory=lambda: secrets.token_urlsafe(24))

    def public(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"callback_secret"})


class RunStore(Protocol):
    """Where the runs are kept: a file of this controller (`RunBook`), or PostgreSQL, shared by
    replicas (`replicas.PostgresRunBook`)."""

    def new(self, workspace: str, revision: str) -> Run: ...
    def get(self, run_id: str) -> Run | None: ...
    def all(self) -> list[Run]: ...
    def edit(self, run_id: str) -> AbstractContextManager[Run]: ...
    def last_revision(self, workspace: str) -> str | None: ...


class RunBook:
    """Every run, thread-safe, persisted on each change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._runs: dict[str, Run] = {}
        if path.exists():
            for item in json.loads(path.read_text(encoding="utf-8")).get("runs", []):
                run = Run.model_validate(item)
                self._runs[run.id] = run

    def new(self, workspace: str, revision: str) -> Run:
        with self._lock:
            run = Run(id=uuid.uuid4().hex[:12], workspace=workspace, revision=revision)
            self._runs[run.id] = run
            self._save()
            return run.model_copy()

    def get(self, run_id: str) -> Run | None:
        with self._lock:
            run = self._runs.get(run_id)
            return run.model_copy() if run else None

    def all(self) -> list[Run]:
        with self._lock:
            return [r.model_copy() for r in reversed(self._runs.values())]  # newest first

    @contextmanager
    def edit(self, run_id: str) -> Iterator[Run]:
        """The run to change in place; saved when the block ends."""
        with self._lock:
            run = self._runs[run_id]
            yield run
            self._save()

    def last_revision(self, workspace: str) -> str | None:
        with self._lock:
            mine = [r for r in self._runs.values() if r.workspace == workspace]
            return mine[-1].revision if mine else None  # the newest: the dict keeps order

    def _save(self) -> None:
        data = {"runs": [r.model_dump(mode="json") for r in self._runs.values()]}
        text = json.dumps(data, indent=1)
        write_atomically(self.path, text, what="the controller's runs", make_parents=True)
