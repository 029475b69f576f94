"""Another client of the same drive: a second workspace, a CI pipeline or a person with the
Descript CLI, making look-alike jobs with the same token.

Its jobs go through the same code as ours, so the job view cannot tell them apart (same drive,
same fields). Only the projects API can: a foreign project has a name of its own ("Foreign
project 3") unless one is given. With `foreign_client: RATE` it makes RATE jobs per
emulator-minute, at evenly spaced emulator times, choosing kinds and prompts with a generator
seeded by `seed`, so a run with the manual clock is repeatable.
"""

from __future__ import annotations

import random
import uuid
from typing import TYPE_CHECKING, Any

from descript_iac.emulator.exceptions import EmulatorError, InvalidInput

if TYPE_CHECKING:
    from descript_iac.emulator.backend import Backend

KINDS = ("prompt_create", "import", "agent")
PROMPTS = (
    "Remove filler words",
    "Add captions to the whole episode",
    "Apply Studio Sound to every clip",
    "Create a 30-second highlight reel",
    "Tighten the pacing",
)
MAX_PER_TICK = 1000


class ForeignClient:
    def __init__(self, seed: int, rate: float, now: float) -> None:
        self.rng = random.Random(f"foreign-client:{seed}")
        self.restart(rate, now)

    def restart(self, rate: float, now: float) -> None:
        """Make `rate` jobs per emulator-minute from `now` on: the first one minute/rate later."""
        self.rate = rate
        self.next_at = now + 60.0 / rate if rate > 0 else now

    def due(self, now: float) -> list[float]:
        """The emulator times at which jobs fell due since the last call."""
        times: list[float] = []
        while self.rate > 0 and self.next_at <= now and len(times) < MAX_PER_TICK:
            times.append(self.next_at)
            self.next_at += 60.0 / self.rate
        return times

    def pick_kind(self, backend: Backend) -> str:
        kind = self.rng.choice(KINDS)
        if kind == "agent" and not _foreign_projects(backend):
            kind = "prompt_create"
        return kind


def _foreign_projects(backend: Backend) -> list[str]:
    return [p.project_id for p in backend.projects.values() if p.foreign]


def make_job(backend: Backend, spec: dict[str, Any], at: float) -> dict[str, Any]:
    """One foreign job, as `POST /_emulator/foreign` describes it; returns the job's view."""
    client = backend.foreign
    kind = spec.get("kind") or client.pick_kind(backend)
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}")
    faults = backend.config.faults
    media = spec.get("media") or faults.foreign_media
    compositions = spec.get("compositions") or faults.foreign_composition
    prompt = spec.get("prompt") or client.rng.choice(PROMPTS)
    project_id = spec.get("project_id")
    token = backend.config.tokens[0]
    if kind == "agent" and project_id is None:
        candidates = _foreign_projects(backend)
        if not candidates:
            raise InvalidInput("no foreign project yet: give project_id, or make one first")
        project_id = client.rng.choice(candidates)
    name = spec.get("project_name")
    if project_id is None and name is None:
        name = f"Foreign project {len(_foreign_projects(backend)) + 1}"
    body: dict[str, Any]
    if kind == "import":
        folder = f"{client.rng.getrandbits(32):08x}"  # deterministic URLs, so durations too
        body = {
            "add_media": {m: {"url": f"https://cdn.example.com/{folder}/{m}"} for m in media},
            "add_compositions": [
                {"name": c, "clips": [{"media": m} for m in media]} for c in compositions
            ],
        }
        body.update({"project_id": project_id} if project_id else {"project_name": name})
        created = backend.create_import(token, body, at=at)
    else:
        body = {"prompt": prompt}
        body.update({"project_id": project_id} if project_id else {"project_name": name})
        created = backend.create_agent(token, body, at=at)
    project = backend.projects[created["project_id"]]
    if project_id is None:
        project.foreign = True
        if not faults.foreign_same_user:
            project.created_by = str(uuid.uuid5(uuid.NAMESPACE_URL, "descript-emulator:foreign"))
        backend.persist(project, None)
    backend.stats[f"foreign:{kind}"] += 1
    return backend.jobs[created["job_id"]].view(backend.clock.now())


def make_due_jobs(backend: Backend, now: float) -> None:
    """Called on every tick: the jobs the other client made since the last one."""
    for at in backend.foreign.due(now):
        try:
            make_job(backend, {}, at)
        except EmulatorError as exc:  # e.g. out of credits: the other client gives up
            backend.stats["foreign:refused"] += 1
            backend.stats[f"foreign:refused:{exc.status}"] += 1
