"""The emulated Descript service: projects, jobs and the rules the docs describe.

Jobs move queued -> running -> stopped on the emulator's clock; a project's jobs run one at a
time in submission order. A job's outcome is decided when it is submitted (deterministically from
its inputs and the seeded faults) and shown once it has stopped.
"""

from __future__ import annotations

import base64
import math
import re
import secrets
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from descript_iac.emulator import validation as v
from descript_iac.emulator.clock import Clock, RealClock, iso, parse_iso
from descript_iac.emulator.exceptions import (
    Forbidden,
    InvalidInput,
    NotFound,
    PaymentRequired,
    Unauthorized,
)
from descript_iac.emulator.faults import Dice, Faults, RateWindow
from descript_iac.emulator.media import probe, public_part
from descript_iac.emulator.persistence import DiskStore
from descript_iac.emulator.records import JobRecord, ProjectRecord
from descript_iac.emulator.underlord import run_prompt

IMPORT_INTO_EXISTING = "import-into-existing"
DAY = 86_400.0
IMPORT_LABELS = ["Downloading media...", "Transcribing...", "Creating compositions..."]


@dataclass
class EmulatorConfig:
    tokens: tuple[str, ...] = ("emulator-token",)
    job_seconds: float = 2.0
    capabilities: frozenset[str] = frozenset()
    faults: Faults = field(default_factory=Faults)
    allow_callback_hosts: tuple[str, ...] = ()


class Backend:
    def __init__(
        self,
        config: EmulatorConfig | None = None,
        clock: Clock | None = None,
        store: DiskStore | None = None,
    ) -> None:
        self.config = config or EmulatorConfig()
        self.clock = clock or RealClock()
        self.store = store
        self.lock = threading.RLock()
        self.rate = RateWindow()
        self.published_rate = RateWindow()
        self.dice = Dice(self.config.faults.seed)
        self.stats: Counter[str] = Counter()
        self.projects: dict[str, ProjectRecord] = {}
        self.jobs: dict[str, JobRecord] = {}
        self.seq = 0
        self.credits_used = 0.0
        self.import_links: dict[str, dict[str, Any]] = {}
        if store is not None:
            self.projects, self.jobs, meta = store.load()
            self.seq = int(meta.get("seq", 0))
            self.credits_used = float(meta.get("credits_used", 0.0))

    # --- identity -------------------------------------------------------------------------

    def authenticate(self, authorization: str | None) -> str:
        if not authorization or not authorization.startswith("Bearer "):
            raise Unauthorized("Missing bearer token: send 'Authorization: Bearer YOUR_API_TOKEN'")
        token = authorization[len("Bearer ") :].strip()
        if token not in self.config.tokens:
            raise Unauthorized("Invalid API token")
        return token

    @staticmethod
    def drive_id(token: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"descript-emulator-drive:{token}"))

    # --- jobs ------------------------------------------------------------------------------

    def _project_for(self, token: str, project_id: str) -> ProjectRecord:
        project = self.projects.get(project_id)
        if project is None or project.drive_id != self.drive_id(token):
            raise NotFound(f"Project {project_id} not found")
        return project

    def _new_project(self, token: str, name: str | None, access: str | None) -> ProjectRecord:
        project = ProjectRecord(
            project_id=str(uuid.uuid4()),
            drive_id=self.drive_id(token),
            name=name or "Untitled project",
            team_access=access or "none",
            created_at=self.clock.now(),
        )
        self.projects[project.project_id] = project
        return project

    def _enqueue(
        self,
        project: ProjectRecord,
        job_type: str,
        duration: float,
        result: dict[str, Any],
        effects: dict[str, Any],
        callback_url: str | None,
        labels: list[str],
        prompt: str | None = None,
    ) -> dict[str, str]:
        now = self.clock.now()
        start = max(now, project.busy_until)
        self.seq += 1
        job = JobRecord(
            job_id=str(uuid.uuid4()),
            seq=self.seq,
            job_type=job_type,
            project_id=project.project_id,
            drive_id=project.drive_id,
            created_at=now,
            start_at=start,
            end_at=start + duration,
            result=result,
            effects=effects,
            callback_url=callback_url,
            labels=labels,
            prompt=prompt,
        )
        project.busy_until = job.end_at
        project.job_ids.append(job.job_id)
        self.jobs[job.job_id] = job
        self.stats[f"committed:{job_type}"] += 1
        self._persist(project, job)
        return {
            "job_id": job.job_id,
            "drive_id": project.drive_id,
            "project_id": project.project_id,
            "project_url": project.url,
        }

    def create_import(self, token: str, body: Any) -> dict[str, str]:
        with self.lock:
            body = v.require_object(body)
            name = v.optional_str(body, "project_name")
            access = v.team_access(body)
            callback = body.get("callback_url")
            if callback is not None:
                v.http_url(callback, "callback_url")
            project_id = v.optional_str(body, "project_id")
            existing: ProjectRecord | None = None
            if project_id and IMPORT_INTO_EXISTING in self.config.capabilities:
                existing = self._project_for(token, project_id)
            known = set(existing.media) if existing else set()
            media = v.add_media(body, known)
            conflicts = sorted(known & set(media))
            if conflicts:
                raise InvalidInput(f"media filenames conflict with existing files: {conflicts}")
            comps = v.add_compositions(body, set(media) | known)
            result, effects, total = self._import_outcome(media, comps, existing)
            project = existing or self._new_project(token, name, access)
            for media_name in media:  # reserved now, so a second import cannot reuse the name
                project.media.setdefault(media_name, {"status": "pending"})
            duration = self.config.job_seconds * (1 + min(total, 3600.0) / 3600.0)
            return self._enqueue(
                project, "import/project_media", duration, result, effects, callback, IMPORT_LABELS
            )

    def _import_outcome(
        self,
        media: dict[str, dict[str, Any]],
        comps: list[dict[str, Any]],
        existing: ProjectRecord | None,
    ) -> tuple[dict[str, Any], dict[str, Any], float]:
        faults = self.config.faults
        statuses: dict[str, dict[str, Any]] = {}
        stored: dict[str, dict[str, Any]] = {}
        durations: dict[str, float | None] = {}
        if existing:
            durations.update({n: m.get("duration_seconds") for n, m in existing.media.items()})
        for name, item in media.items():
            if "url" not in item:
                continue
            duration, error = probe(item["url"], faults.fail_media_pattern)
            durations[name] = duration
            entry: dict[str, Any] = {"status": "success" if error is None else "failed"}
            if duration is not None:
                entry["duration_seconds"] = duration
            if error:
                entry["error_message"] = error
            statuses[name] = entry
            stored[name] = {"source": public_part(item["url"]), **entry}
        for name, item in media.items():
            if "tracks" not in item:
                continue
            ends = [durations.get(t["media"]) for t in item["tracks"]]
            if all(d is not None for d in ends):
                length = max(
                    (d or 0.0) + t["offset"] for d, t in zip(ends, item["tracks"], strict=True)
                )
                entry = {"status": "success", "duration_seconds": round(length, 6)}
            else:
                entry = {"status": "failed", "error_message": "A track of the sequence failed"}
            statuses[name] = entry
            stored[name] = {"tracks": item["tracks"], **entry}
        ok = [s for s in statuses.values() if s["status"] == "success"]
        used = sum(
            statuses[n].get("duration_seconds", 0.0)
            for n, item in media.items()
            if "url" in item and statuses[n]["status"] == "success"
        )
        if statuses and not ok:
            status = "error"
        elif len(ok) < len(statuses):
            status = "partial"
        else:
            status = "success"
        if self.dice.roll(faults.job_failure_rate):
            status = "error"
        result: dict[str, Any] = {
            "status": status,
            "media_status": statuses,
            "media_seconds_used": math.ceil(used) if status != "error" else 0,
        }
        created = []
        if status == "error":
            result["error_message"] = "Import failed: no media could be imported"
        else:
            created = [{"id": str(uuid.uuid4()), "name": c["name"]} for c in comps]
        result["created_compositions"] = created
        layouts = [{**c, "id": made["id"]} for c, made in zip(comps, created, strict=False)]
        effects = {"media": stored, "compositions": layouts}
        return result, effects, used

    def create_agent(self, token: str, body: Any) -> dict[str, str]:
        with self.lock:
            body = v.require_object(body)
            project_id = v.optional_str(body, "project_id")
            project_name = v.optional_str(body, "project_name")
            if project_id and project_name:
                raise InvalidInput("project_id and project_name are mutually exclusive")
            if not project_id and not project_name:
                raise InvalidInput("Either project_id or project_name is required")
            prompt = body.get("prompt")
            if not isinstance(prompt, str) or not prompt.strip():
                raise InvalidInput("prompt is required")
            v.optional_str(body, "model")
            v.optional_str(body, "composition_id")  # accepted and ignored, as documented
            access = v.team_access(body)
            callback = body.get("callback_url")
            if callback is not None:
                v.http_url(callback, "callback_url")
            faults = self.config.faults
            if faults.credit_budget is not None and self.credits_used >= faults.credit_budget:
                raise PaymentRequired(
                    "Insufficient AI credits: add credits to your Descript plan to run agent jobs"
                )
            project = (
                self._project_for(token, project_id)
                if project_id
                else self._new_project(token, project_name, access)
            )
            outcome = run_prompt(prompt)
            pattern = faults.fail_prompt_pattern
            failed = self.dice.roll(faults.job_failure_rate) or bool(
                pattern and re.search(pattern, prompt)
            )
            result: dict[str, Any]
            if failed:
                result = {
                    "status": "error",
                    "error_message": "The agent could not complete the request",
                    "agent_response": "I wasn't able to make that edit.",
                    "project_changed": False,
                    "media_seconds_used": 0,
                    "ai_credits_used": 2,
                }
                effects: dict[str, Any] = {"edits": []}
            else:
                result = {
                    "status": "success",
                    "agent_response": outcome.response,
                    "project_changed": True,
                    "media_seconds_used": 0,
                    "ai_credits_used": outcome.ai_credits,
                }
                effects = {"edits": list(outcome.edits)}
            self.credits_used += result["ai_credits_used"]
            labels = [f"Working on: {e.replace('_', ' ')}..." for e in outcome.edits]
            return self._enqueue(
                project,
                "agent",
                self.config.job_seconds,
                result,
                effects,
                callback,
                labels,
                prompt=prompt,
            )

    def get_job(self, token: str, job_id: str) -> dict[str, Any]:
        with self.lock:
            job = self.jobs.get(job_id)
            if job is None or job.drive_id != self.drive_id(token):
                raise NotFound(f"Job {job_id} not found")
            return job.view(self.clock.now())

    def list_jobs(self, token: str, params: dict[str, str]) -> dict[str, Any]:
        with self.lock:
            now = self.clock.now()
            limit = v.list_limit(params.get("limit"))
            kind = v.job_type(params.get("type"))
            try:
                after = parse_iso(params["created_after"]) if "created_after" in params else None
                before = parse_iso(params["created_before"]) if "created_before" in params else None
            except ValueError:
                raise InvalidInput("created_after/created_before must be ISO 8601 dates") from None
            if after is None:
                after = now - 7 * DAY
            if after < now - 30 * DAY - 1:
                raise InvalidInput("created_after is too far back: the maximum lookback is 30 days")
            before = now if before is None else before
            below = self._cursor_seq(params.get("cursor"))
            drive = self.drive_id(token)
            project_id = params.get("project_id")
            matching = [
                j
                for j in self.jobs.values()
                if j.drive_id == drive
                and after <= j.created_at <= before
                and (kind is None or j.job_type == kind)
                and (project_id is None or j.project_id == project_id)
                and (below is None or j.seq < below)
            ]
            matching.sort(key=lambda j: j.seq, reverse=True)
            page = matching[:limit]
            more = len(matching) > limit
            cursor = base64.urlsafe_b64encode(str(page[-1].seq).encode()).decode() if more else None
            return {
                "data": [j.view(now) for j in page],
                "pagination": {"next_cursor": cursor},
            }

    @staticmethod
    def _cursor_seq(cursor: str | None) -> int | None:
        if not cursor:
            return None
        try:
            return int(base64.urlsafe_b64decode(cursor.encode()).decode())
        except (ValueError, UnicodeDecodeError):
            raise InvalidInput("cursor is not valid; use pagination.next_cursor as given") from None

    # --- edit in descript and published projects ---------------------------------------------

    def edit_in_descript(self, token: str, body: Any) -> dict[str, str]:
        with self.lock:
            body = v.require_object(body)
            drive = body.get("partner_drive_id")
            if not isinstance(drive, str) or not drive:
                raise InvalidInput("partner_drive_id is required")
            if drive != self.drive_id(token):
                raise Forbidden("partner_drive_id is not the drive associated with this token")
            schema = v.require_object(body.get("project_schema"), "project_schema")
            if not isinstance(schema.get("schema_version"), str):
                raise InvalidInput("project_schema.schema_version is required")
            files = schema.get("files")
            if not isinstance(files, list) or not files:
                raise InvalidInput("project_schema.files must be a non-empty array")
            for i, item in enumerate(files):
                item = v.require_object(item, f"project_schema.files[{i}]")
                v.http_url(item.get("uri"), f"project_schema.files[{i}].uri")
                offset = item.get("start_offset")
                if offset is not None:
                    seconds = v.require_object(offset, "start_offset").get("seconds")
                    if not isinstance(seconds, (int, float)) or seconds < 0:
                        raise InvalidInput("start_offset.seconds must be a number >= 0")
            link = secrets.token_urlsafe(16)
            self.import_links[link] = {
                "expires_at": self.clock.now() + 3 * 3600,
                "files": len(files),
                "source_id": schema.get("source_id"),
            }
            return {"url": f"https://web.descript.com/import?nonce={link}"}

    def published(self, token: str, slug: str) -> dict[str, Any]:
        with self.lock:
            drive = self.drive_id(token)
            for project in self.projects.values():
                if project.published_slug == slug and project.drive_id == drive:
                    return _published_view(project)
            raise NotFound(f"Published project {slug} not found")

    # --- lifecycle -----------------------------------------------------------------------

    def tick(self) -> list[tuple[str, dict[str, Any]]]:
        """Apply the effects of jobs that stopped; return (callback_url, payload) to send."""
        callbacks = []
        with self.lock:
            now = self.clock.now()
            for job in self.jobs.values():
                if job.finalized or job.state_at(now) != "stopped":
                    continue
                project = self.projects.get(job.project_id)
                if project is not None:
                    project.media.update(job.effects.get("media", {}))
                    project.compositions.extend(job.effects.get("compositions", []))
                    for edit in job.effects.get("edits", []):
                        project.edits.append({"job_id": job.job_id, "edit": edit})
                job.finalized = True
                if job.callback_url and not job.callback_done:
                    job.callback_done = True
                    callbacks.append((job.callback_url, job.view(now)))
                self._persist(project, job)
        return callbacks

    def _persist(self, project: ProjectRecord | None, job: JobRecord | None) -> None:
        if self.store is None:
            return
        if project is not None:
            self.store.save_project(project)
        if job is not None:
            self.store.save_job(job)
        self.store.save_meta({"seq": self.seq, "credits_used": self.credits_used})

    # --- inspection (emulator only) ------------------------------------------------------

    def publish(self, project_id: str) -> str:
        with self.lock:
            project = self.projects.get(project_id)
            if project is None:
                raise NotFound(f"Project {project_id} not found")
            project.published_slug = project.published_slug or secrets.token_hex(6)
            self._persist(project, None)
            return project.published_slug

    def inspect_projects(self) -> list[dict[str, Any]]:
        self.tick()
        with self.lock:
            now = self.clock.now()
            out = []
            for project in sorted(self.projects.values(), key=lambda p: p.created_at):
                jobs = [self.jobs[j] for j in project.job_ids]
                out.append(
                    {
                        "project_id": project.project_id,
                        "name": project.name,
                        "team_access": project.team_access,
                        "created_at": iso(project.created_at),
                        "media": project.media,
                        "compositions": project.compositions,
                        "edits": project.edits,
                        "published_slug": project.published_slug,
                        "jobs": [
                            {
                                "job_id": j.job_id,
                                "job_type": j.job_type,
                                "job_state": j.state_at(now),
                                "prompt": j.prompt,
                            }
                            for j in jobs
                        ],
                    }
                )
            return out

    def reset(self) -> None:
        with self.lock:
            self.projects.clear()
            self.jobs.clear()
            self.import_links.clear()
            self.stats.clear()
            self.seq = 0
            self.credits_used = 0.0
            self.rate.reset()
            self.published_rate.reset()
            if self.store is not None:
                self.store.clear()


def _published_view(project: ProjectRecord) -> dict[str, Any]:
    cues = ["WEBVTT", ""]
    position = 0.0
    total = 0.0
    for name, media in project.media.items():
        duration = float(media.get("duration_seconds") or 0.0)
        if "source" not in media or not duration:
            continue
        cues += [f"{_vtt(position)} --> {_vtt(position + duration)}", name, ""]
        position += duration
        total += duration
    whole = int(total)
    return {
        "project_id": project.project_id,
        "publish_type": "video",
        "privacy": "unlisted",
        "metadata": {
            "title": project.name,
            "duration_seconds": round(total, 3),
            "duration_formatted": f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}",
            "published_at": iso(project.created_at),
            "published_by": {"first_name": "Emulated", "last_name": "User"},
        },
        "subtitles": "\n".join(cues),
    }


def _vtt(seconds: float) -> str:
    millis = round(seconds * 1000)
    h, rest = divmod(millis, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"
