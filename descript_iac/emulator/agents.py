"""Agent jobs (`POST /v1/jobs/agent`): a prompt run by the simulated Underlord.

`composition_id` is ignored at the seed level (the seed docs call it "work in progress"); at the
2026 level it must name a composition of the project, by UUID, 5-character short id or project
URL, as the 2026 document describes.
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from descript_iac.emulator import validation as v
from descript_iac.emulator.exceptions import InvalidInput, NotFound, PaymentRequired
from descript_iac.emulator.hostile import HOSTILE_TEXT
from descript_iac.emulator.records import ProjectRecord
from descript_iac.emulator.underlord import run_prompt

if TYPE_CHECKING:
    from descript_iac.emulator.backend import Backend

AGENT_JOB = "agent"
FIELDS = (
    *("project_id", "project_name", "composition_id", "model", "prompt", "team_access"),
    "callback_url",
)
NEW_PROJECT_SECONDS = 30.0  # length of the composition a prompt-only project starts with


def create_agent(backend: Backend, token: str, body: Any, at: float) -> dict[str, Any]:
    body = v.require_object(body)
    v.only_keys(body, FIELDS)
    project_id = v.optional_uuid(body, "project_id")
    project_name = v.optional_str(body, "project_name")
    if project_id and project_name:
        raise InvalidInput("project_id and project_name are mutually exclusive")
    if project_id is None and project_name is None:
        raise InvalidInput("Either project_id or project_name is required")
    prompt = body.get("prompt")
    if not isinstance(prompt, str):
        raise InvalidInput("prompt is required (a string)")
    if not prompt.strip():
        raise InvalidInput("prompt must not be blank")
    v.optional_str(body, "model")
    composition = v.optional_str(body, "composition_id")
    access = v.team_access(body)
    callback = v.callback_url(body)
    if backend.level == "2026" and composition is not None and project_id is None:
        raise InvalidInput("composition_id is only valid together with project_id")
    faults = backend.config.faults
    if faults.credit_budget is not None and backend.credits_used >= faults.credit_budget:
        raise PaymentRequired(
            "Insufficient AI credits: add credits to your Descript plan to run agent jobs"
        )
    target: str | None = None
    if project_id:
        project = backend.project_for(token, project_id)
        if backend.level == "2026" and composition is not None:
            target = find_composition(project, composition)
    else:
        project = backend.new_project(token, project_name, access, None, at)
    outcome = run_prompt(prompt)
    pattern = faults.fail_prompt_pattern
    failed = backend.dice.roll(faults.job_failure_rate) or bool(
        pattern and re.search(pattern, prompt)
    )
    effects: dict[str, Any] = {"edits": [], "composition_id": target}
    if failed:
        reply = "I wasn't able to make that edit"
        result: dict[str, Any] = {
            "status": "error",
            "error_message": "The agent could not complete the request",
            "project_changed": False,
            "media_seconds_used": 0,
            "ai_credits_used": 2,
        }
    else:
        reply = outcome.reply
        result = {
            "status": "success",
            "project_changed": True,
            "media_seconds_used": 0,
            "ai_credits_used": outcome.ai_credits,
        }
        effects["edits"] = list(outcome.edits)
        if project_name is not None:  # a new project starts with one composition
            effects["compositions"] = [_first_composition(project)]
    if faults.echo_prompt:
        reply += f" You asked: {prompt}"
    if faults.hostile_text:  # the model's reply is untrusted text: play the worst of it
        reply += HOSTILE_TEXT
        if result["status"] == "error":
            result["error_message"] += HOSTILE_TEXT
    backend.credits_used += result["ai_credits_used"]
    if faults.hostile_numbers:  # billed as usual; reported as nonsense
        result["ai_credits_used"] = -1e9
    labels = [f"Working on: {e.replace('_', ' ')}..." for e in outcome.edits]
    if faults.hostile_text:
        labels = [label + HOSTILE_TEXT for label in labels or ["Working..."]]
    return backend.enqueue(
        project,
        AGENT_JOB,
        backend.config.job_seconds,
        result,
        effects,
        callback,
        labels,
        at=at,
        prompt=prompt,
        reply=reply,
    )


def _first_composition(project: ProjectRecord) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "name": project.name,
        "clips": [],
        "duration": NEW_PROJECT_SECONDS,
        "media_type": "video",
    }


def find_composition(project: ProjectRecord, ref: str) -> str:
    """The id of the project's composition that `ref` names (UUID, short id or URL), or 404."""
    short = ref
    if "://" in ref:
        path = [p for p in urlsplit(ref).path.split("/") if p]
        if len(path) != 2 or path[0] != project.project_id:
            raise InvalidInput(f"composition_id {ref!r} is not a URL of project {project.url}")
        short = path[1]
    for comp in project.compositions:
        if comp["id"] == short or (len(short) == 5 and comp["id"].startswith(short)):
            return str(comp["id"])
    raise NotFound(
        f"Composition {ref!r} not found in project {project.project_id}: "
        "use an id from the import's created_compositions"
    )
