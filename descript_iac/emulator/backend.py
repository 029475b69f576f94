"""The emulated Descript service: projects, jobs and the rules the docs describe.

Jobs move queued -> running -> stopped (or cancelled) on the emulator's clock; a project's jobs
run one at a time in submission order. A job's outcome is decided when it is submitted
(deterministically from its inputs and the seeded faults) and shown once it has stopped. Each
kind of job has its module (`imports`, `agents`, `publishing`); this one keeps the records, the
clock-driven lifecycle and the settings.
"""

from __future__ import annotations

import copy
import secrets
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from descript_iac.emulator import (
    agents,
    edit_links,
    foreign,
    imports,
    job_history,
    project_views,
    publishing,
)
from descript_iac.emulator import validation as v
from descript_iac.emulator.clock import Clock, ManualClock, RealClock, iso
from descript_iac.emulator.exceptions import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthorized,
)
from descript_iac.emulator.faults import Dice, Faults, RateWindow
from descript_iac.emulator.persistence import DiskStore
from descript_iac.emulator.records import JobRecord, ProjectRecord, prompt_digest

IMPORT_INTO_EXISTING = imports.IMPORT_INTO_EXISTING


@dataclass
class EmulatorConfig:
    tokens: tuple[str, ...] = ("emulator-token",)
    job_seconds: float = 2.0
    capabilities: frozenset[str] = frozenset()
    faults: Faults = field(default_factory=Faults)
    allow_callback_hosts: tuple[str, ...] = ()
    # Tokens that reach one drive (one person's two tokens, or a team's): token -> drive name.
    # A token not named here has a drive of its own.
    shared_drives: dict[str, str] = field(default_factory=dict)


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
        self.startup_faults = copy.deepcopy(self.config.faults)
        self.rate = RateWindow()
        self.published_rate = RateWindow()
        self.dice = Dice(self.config.faults.seed)
        self.foreign = self._foreign_client()
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
            if isinstance(self.clock, ManualClock):  # a manual clock resumes where it stopped
                self.clock.advance(max(0.0, float(meta.get("now", 0.0)) - self.clock.now()))

    @property
    def level(self) -> str:
        """The API level served: "seed" (the documented API) or "2026"."""
        return self.config.faults.api_level

    # --- identity -------------------------------------------------------------------------

    def authenticate(self, authorization: str | None) -> str:
        if not authorization or not authorization.startswith("Bearer "):
            raise Unauthorized("Missing bearer token: send 'Authorization: Bearer YOUR_API_TOKEN'")
        token = authorization[len("Bearer ") :].strip()
        if token not in self.config.tokens:
            raise Unauthorized("Invalid API token")
        return token

    def drive_id(self, token: str) -> str:
        name = self.config.shared_drives.get(token, token)
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"descript-emulator-drive:{name}"))

    @staticmethod
    def user_id(token: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"descript-emulator-user:{token}"))

    # --- projects and jobs -----------------------------------------------------------------

    def project_for(self, token: str, project_id: str) -> ProjectRecord:
        project = self.projects.get(project_id)
        if project is None or project.drive_id != self.drive_id(token):
            raise NotFound(f"Project {project_id} not found")
        return project

    def new_project(
        self, token: str, name: str | None, access: str | None, folder: str | None, at: float
    ) -> ProjectRecord:
        project = ProjectRecord(
            project_id=str(uuid.uuid4()),
            drive_id=self.drive_id(token),
            name=name or "Untitled project",
            team_access=access or "none",
            created_at=at,
            created_by=self.user_id(token),
            updated_at=at,
            folder_path=folder,
        )
        self.projects[project.project_id] = project
        return project

    def enqueue(
        self,
        project: ProjectRecord,
        job_type: str,
        duration: float,
        result: dict[str, Any],
        effects: dict[str, Any],
        callback_url: str | None,
        labels: list[str],
        *,
        at: float,
        prompt: str | None = None,
        reply: str | None = None,
        progress_extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        start = max(at, project.busy_until)
        self.seq += 1
        job = JobRecord(
            job_id=str(uuid.uuid4()),
            seq=self.seq,
            job_type=job_type,
            project_id=project.project_id,
            drive_id=project.drive_id,
            created_at=at,
            start_at=start,
            end_at=start + duration,
            result=result,
            effects=effects,
            callback_url=callback_url,
            labels=labels,
            prompt=prompt,
            prompt_digest=prompt_digest(prompt) if prompt is not None else None,
            prompt_length=len(prompt or ""),
            reply=reply,
            progress_extra=progress_extra or {},
        )
        project.busy_until = job.end_at
        project.job_ids.append(job.job_id)
        self.jobs[job.job_id] = job
        self.stats[f"committed:{job_type}"] += 1
        self.persist(project, job)
        return {
            "job_id": job.job_id,
            "drive_id": project.drive_id,
            "project_id": project.project_id,
            "project_url": project.url,
        }

    def create_import(self, token: str, body: Any, at: float | None = None) -> dict[str, Any]:
        with self.lock:
            return imports.create_import(self, token, body, self._at(at))

    def create_agent(self, token: str, body: Any, at: float | None = None) -> dict[str, Any]:
        with self.lock:
            return agents.create_agent(self, token, body, self._at(at))

    def create_publish(self, token: str, body: Any, at: float | None = None) -> dict[str, Any]:
        with self.lock:
            return publishing.create_publish(self, token, body, self._at(at))

    def _at(self, at: float | None) -> float:
        return self.clock.now() if at is None else at

    def job_for(self, token: str, job_id: str) -> JobRecord:
        job = self.jobs.get(job_id)
        if job is None or job.drive_id != self.drive_id(token):
            raise NotFound(f'No job found for job_id "{job_id}".')
        if job.created_at < self.clock.now() - job_history.HORIZON:
            raise NotFound(f'No job found for job_id "{job_id}" (jobs are kept for 30 days).')
        return job

    def get_job(self, token: str, job_id: str) -> dict[str, Any]:
        """Not lagged: a job is readable by id as soon as it exists (see `history_lag`)."""
        with self.lock:
            return self.job_for(token, job_id).view(self.clock.now())

    def list_jobs(self, token: str, params: dict[str, str]) -> dict[str, Any]:
        with self.lock:
            return job_history.list_jobs(self, token, params)

    def cancel_job(self, token: str, job_id: str) -> None:
        """Cancel a queued or running job; a cancelled one again is a no-op; a stopped one, 409."""
        with self.lock:
            job = self.job_for(token, job_id)
            now = self.clock.now()
            state = job.state_at(now)
            if state == "cancelled":
                return
            if state == "stopped":
                raise Conflict(
                    f"Job {job_id} already stopped at {iso(job.end_at)} with status "
                    f"{job.result.get('status')!r}: a stopped job cannot be cancelled"
                )
            job.cancelled_at = now
            if job.job_type == "agent":
                self.credits_used -= float(job.result.get("ai_credits_used", 0))
            project = self.projects.get(job.project_id)
            if project is not None:
                job_history.reschedule(self, project, now)
            self.stats["cancelled"] += 1
            self.persist(project, job)

    # --- the 2026 projects API, edit in descript, published projects ---------------------------

    def list_projects(self, token: str, params: dict[str, str]) -> dict[str, Any]:
        with self.lock:
            return project_views.list_projects(self, token, params)

    def get_project(self, token: str, project_id: str) -> dict[str, Any]:
        """Not lagged, like a job read by id."""
        if not v.is_uuid(project_id):
            raise InvalidInput(f"Invalid project_id {project_id!r}: expected a UUID")
        with self.lock:
            project = self.project_for(token, project_id)
            if not project_views.accessible(project, self.user_id(token)):
                raise Forbidden("User does not have access to this project")
            return project_views.detail(project)

    def edit_in_descript(self, token: str, body: Any) -> dict[str, str]:
        with self.lock:
            return edit_links.create_link(self, token, body)

    def published(self, token: str, slug: str) -> dict[str, Any]:
        with self.lock:
            drive = self.drive_id(token)
            for project in self.projects.values():
                page = publishing.find_published(project, slug)
                if page is not None and project.drive_id == drive:
                    return publishing.published_view(project, page)
            raise NotFound(f"Published project {slug} not found")

    # --- lifecycle -----------------------------------------------------------------------

    def tick(self) -> list[tuple[str, dict[str, Any]]]:
        """Let the other client act, apply the effects of jobs that stopped, and return the
        (callback_url, payload) pairs to send."""
        callbacks = []
        with self.lock:
            now = self.clock.now()
            foreign.make_due_jobs(self, now)
            for job in self.jobs.values():
                if job.finalized:
                    continue
                state = job.state_at(now)
                if state not in ("stopped", "cancelled"):
                    continue
                project = self.projects.get(job.project_id)
                if project is not None:
                    job_history.finish(project, job, state)
                job.finalized = True
                if job.callback_url and not job.callback_done:
                    job.callback_done = True
                    callbacks.append((job.callback_url, job.view(now)))
                self.persist(project, job)
        return callbacks

    def persist(self, project: ProjectRecord | None, job: JobRecord | None) -> None:
        if self.store is None:
            return
        if project is not None:
            self.store.save_project(project)
        if job is not None:
            self.store.save_job(job)
        self.store.save_meta(
            {"seq": self.seq, "credits_used": self.credits_used, "now": self.clock.now()}
        )

    def update_faults(self, changes: Any) -> dict[str, Any]:
        with self.lock:
            faults = self.config.faults
            seed, rate = faults.seed, faults.foreign_client
            faults.update(changes, self.clock.now())
            if faults.seed != seed:
                self.dice = Dice(faults.seed)
                self.foreign = self._foreign_client()
            elif faults.foreign_client != rate:
                self.foreign.restart(faults.foreign_client, self.clock.now())
            return faults.as_dict()

    def _foreign_client(self) -> foreign.ForeignClient:
        faults = self.config.faults
        return foreign.ForeignClient(faults.seed, faults.foreign_client, self.clock.now())

    def reset(self, *, delete_data: bool = False) -> None:
        """Forget every project and job; restore the settings the emulator started with.

        With a `--data-dir` store the projects and jobs are a persistent drive someone chose to
        keep, so they are deleted only when asked by name (`delete_data`); otherwise refused:
        a reset meant for the fault settings must never silently empty a kept store."""
        if self.store is not None and not delete_data:
            raise Conflict(
                "this emulator keeps its projects and jobs in a --data-dir store; a reset would "
                "delete them. To restore only the fault settings: POST /_emulator/faults with "
                "the values; to delete the data too: POST /_emulator/reset?delete_data=true"
            )
        with self.lock:
            self.projects.clear()
            self.jobs.clear()
            self.import_links.clear()
            self.stats.clear()
            self.seq = 0
            self.credits_used = 0.0
            self.rate.reset()
            self.published_rate.reset()
            self.config.faults = copy.deepcopy(self.startup_faults)
            self.dice = Dice(self.config.faults.seed)
            self.foreign = self._foreign_client()
            if self.store is not None:
                self.store.clear()

    # --- inspection (emulator only) ------------------------------------------------------

    def advance_clock(self, seconds: float) -> list[tuple[str, dict[str, Any]]]:
        """Move the manual clock forward; returns the callbacks now due."""
        with self.lock:
            self.clock.advance(seconds)
            self.persist(None, None)
        return self.tick()

    def publish(self, project_id: str) -> str:
        with self.lock:
            project = self.projects.get(project_id)
            if project is None:
                raise NotFound(f"Project {project_id} not found")
            project.published_slug = project.published_slug or secrets.token_hex(6)
            self.persist(project, None)
            return project.published_slug

    def make_foreign(self, spec: Any) -> dict[str, Any]:
        with self.lock:
            return foreign.make_job(self, v.require_object(spec), self.clock.now())
