"""What the emulated service stores: projects and jobs, and how a job looks at a moment."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from descript_iac.emulator.clock import iso

PROJECT_URL = "https://web.descript.com/{}"


@dataclass
class ProjectRecord:
    project_id: str
    drive_id: str
    name: str
    team_access: str
    created_at: float
    # display name -> {"source": scheme://host/path | None, "tracks": [...] | None,
    #                  "duration_seconds": float | None, "status": ..., "error_message": ...}
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    compositions: list[dict[str, Any]] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)
    job_ids: list[str] = field(default_factory=list)
    busy_until: float = 0.0
    published_slug: str | None = None

    @property
    def url(self) -> str:
        return PROJECT_URL.format(self.project_id)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class JobRecord:
    job_id: str
    seq: int
    job_type: str  # "import/project_media" | "agent"
    project_id: str
    drive_id: str
    created_at: float
    start_at: float
    end_at: float
    result: dict[str, Any]
    # Applied to the project when the job stops: edits for agent jobs.
    effects: dict[str, Any] = field(default_factory=dict)
    callback_url: str | None = None
    callback_done: bool = False
    finalized: bool = False
    labels: list[str] = field(default_factory=list)
    prompt: str | None = None

    def state_at(self, now: float) -> str:
        if now < self.start_at:
            return "queued"
        if now < self.end_at:
            return "running"
        return "stopped"

    def view(self, now: float) -> dict[str, Any]:
        """The job as `GET /jobs/{id}` shows it at time `now`."""
        state = self.state_at(now)
        body: dict[str, Any] = {
            "job_id": self.job_id,
            "job_type": self.job_type,
            "job_state": state,
            "created_at": iso(self.created_at),
            "drive_id": self.drive_id,
            "project_id": self.project_id,
            "project_url": PROJECT_URL.format(self.project_id),
        }
        if state == "running":
            span = max(self.end_at - self.start_at, 1e-9)
            percent = int(100 * (now - self.start_at) / span)
            labels = self.labels or ["Working..."]
            label = labels[min(len(labels) - 1, percent * len(labels) // 100)]
            body["progress"] = {"label": label, "percent": percent, "last_update_at": iso(now)}
        elif state == "stopped":
            body["stopped_at"] = iso(self.end_at)
            body["result"] = self.result
        return body

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
