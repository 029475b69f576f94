"""What the emulated service stores: projects and jobs, and how a job looks at a moment.

`to_stored()` is what `--data-dir` keeps. It never holds a prompt's text nor a callback URL's
query string (both can carry secrets): a prompt is kept as its length and digest, a callback URL
as scheme://host/path. The full values live in memory only, so after a restart an agent job's
reply says its prompt was not stored, and a callback whose query string was dropped is not sent.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit

from descript_iac.emulator.clock import iso

PROJECT_URL = "https://web.descript.com/{}"
DOWNLOAD_URL_SECONDS = 3600.0


@dataclass
class ProjectRecord:
    project_id: str
    drive_id: str
    name: str
    team_access: str
    created_at: float
    created_by: str = ""
    updated_at: float = 0.0
    folder_path: str | None = None
    # display name -> {"source": scheme://host/path | None, "tracks": [...] | None,
    #                  "duration_seconds": float | None, "status": ..., "error_message": ...}
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    # {"id", "name", "clips": [{"media"}], "duration"?, "media_type"?}, once the job stopped
    compositions: list[dict[str, Any]] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)
    job_ids: list[str] = field(default_factory=list)
    busy_until: float = 0.0
    published_slug: str | None = None
    # "composition_id:media_type" -> {"slug", "access_level"?, "published_at"?}
    publishes: dict[str, dict[str, Any]] = field(default_factory=dict)
    foreign: bool = False  # made by the emulated other client (inspection only, never in /v1)

    @property
    def url(self) -> str:
        return PROJECT_URL.format(self.project_id)

    def to_stored(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> ProjectRecord:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class JobRecord:
    job_id: str
    seq: int
    job_type: str  # "import/project_media" | "agent" | "publish"
    project_id: str
    drive_id: str
    created_at: float
    start_at: float
    end_at: float
    result: dict[str, Any]
    # Applied to the project when the job stops: media, compositions, edits, publishes.
    effects: dict[str, Any] = field(default_factory=dict)
    callback_url: str | None = None  # full URL in memory; scheme://host/path once stored
    callback_query_dropped: bool = False
    callback_done: bool = False
    finalized: bool = False
    labels: list[str] = field(default_factory=list)
    prompt: str | None = None  # memory only
    prompt_digest: str | None = None
    prompt_length: int = 0
    reply: str | None = None  # the agent's reply before it echoes the prompt
    cancelled_at: float | None = None
    progress_extra: dict[str, Any] = field(default_factory=dict)

    def state_at(self, now: float) -> str:
        if self.cancelled_at is not None and now >= self.cancelled_at:
            return "cancelled"
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
            body["progress"] = {
                "label": label,
                "percent": percent,
                "last_update_at": iso(now),
                **self.progress_extra,
            }
        elif state == "stopped":
            body["stopped_at"] = iso(self.end_at)
            body["result"] = self._result()
        elif state == "cancelled":
            body["stopped_at"] = iso(self.cancelled_at or now)
        return body

    def _result(self) -> dict[str, Any]:
        result = dict(self.result)
        if self.reply is not None:
            result["agent_response"] = self._echo()
        if self.job_type == "publish" and result.get("status") == "success":
            expires = self.end_at + DOWNLOAD_URL_SECONDS
            signature = hashlib.sha256(f"{self.job_id}:{expires}".encode()).hexdigest()[:32]
            media_type = self.effects.get("publish", {}).get("media_type", "Video")
            ext = "m4a" if media_type == "Audio" else "mp4"
            result["download_url"] = (
                f"https://storage.descript-emulator.test/exports/{self.job_id}.{ext}"
                f"?X-Goog-Expires={int(DOWNLOAD_URL_SECONDS)}&X-Goog-Signature={signature}"
            )
            result["download_url_expires_at"] = iso(expires)
        return result

    def _echo(self) -> str:
        """The reply quotes the prompt, as Descript's agent does."""
        if self.prompt is not None:
            return f'{self.reply} ("{self.prompt}").'
        return (
            f"{self.reply} (the emulator did not store this prompt: {self.prompt_length} "
            f"characters, sha256 {(self.prompt_digest or '')[:12]})."
        )

    def to_stored(self) -> dict[str, Any]:
        data = asdict(self)
        data["prompt"] = None
        if self.callback_url is not None:
            parts = urlsplit(self.callback_url)
            if parts.query or parts.fragment or parts.username or parts.password:
                data["callback_url"] = f"{parts.scheme}://{parts.hostname or ''}{parts.path}"
                data["callback_query_dropped"] = True
        return data

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> JobRecord:
        known = {f.name for f in fields(cls)}
        job = cls(**{k: v for k, v in data.items() if k in known})
        if job.callback_query_dropped and not job.callback_done:
            job.callback_done = (
                True  # its URL is incomplete: sending it would reach the wrong place
            )
        return job


def prompt_digest(prompt: str) -> str:
    return hashlib.sha256(prompt.encode()).hexdigest()
