"""What an action sends: the intent to journal before it, its gate, and the POST itself."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import msgspec

from descript_iac.api import DescriptClient, fingerprint
from descript_iac.api.models import IMPORT_JOB, PUBLISH_JOB, JobCreated
from descript_iac.api.ratelimit import Ticket
from descript_iac.apply.requests import (
    agent_request,
    composition_id,
    find_composition,
    find_step,
    import_request,
    publish_request,
)
from descript_iac.config.desired import DesiredProject, Workspace
from descript_iac.plan import digests, shown
from descript_iac.plan.model import Action, ActionKind
from descript_iac.plan.publishing import settings_of
from descript_iac.state.document import Intent, IntentAction, StateDocument
from descript_iac.state.drive import gate_key

OnSend = Callable[[float, float], None]
# Sends the POST: called with the hook journaling each attempt and the rate limiter's ticket.
Send = Callable[[OnSend, "Ticket | None"], JobCreated]


def intent_kind(action: Action) -> IntentAction:
    """The intent's `action`: create, update, step or publish."""
    if action.job_type == PUBLISH_JOB:
        return "publish"
    if action.job_type == IMPORT_JOB:
        return "update" if action.kind is ActionKind.UPDATE else "create"
    return "create" if action.kind in (ActionKind.CREATE, ActionKind.REPLACE) else "step"


def _calling_back(desired: DesiredProject, url: str | None) -> DesiredProject:
    if url is None:
        return desired
    spec = desired.spec.model_copy(update={"callback_url": url})
    return msgspec.structs.replace(desired, spec=spec)


def gate_of(action: Action, doc: StateDocument, address: str) -> str:
    """The drive gate the action's POST will hold (as its intent's `gate_key`)."""
    project = doc.projects.get(address)
    project_id = project.project_id if project else None
    on_project = intent_kind(action) in ("update", "step", "publish")
    return gate_key(action.job_type or "", project_id if on_project else None)


def outgoing(
    client: DescriptClient,
    doc: StateDocument,
    workspace: Workspace,
    address: str,
    action: Action,
    callback_url: str | None = None,
) -> tuple[Intent, Send]:
    """The intent to journal and the POST to send for `action`, stamped now; with
    `callback_url`, the POST carries it in place of the project's own (digests are unchanged:
    they are made from the project as declared)."""
    desired = workspace.projects[address]
    sent = _calling_back(desired, callback_url)
    salt = doc.salt
    project = doc.projects.get(address)
    project_id = project.project_id if project else None
    facets = digests.recorded_facets(salt, desired)
    kind = intent_kind(action)
    send: Send
    target: str | None = None
    name: str | None = None
    published = None
    step_digest = step_prompt = step_model = None
    if action.job_type == PUBLISH_JOB:
        assert project_id is not None
        name = action.compositions[0]
        composition = find_composition(desired, name)
        target = composition_id(desired, project, name)
        published = settings_of(composition.publish) if composition.publish else None
        request = publish_request(sent, composition, project_id, target)
        body, path = request.body(), "jobs/publish"
        send = lambda on_send, ticket: client.publish(request, on_send, ticket)  # noqa: E731
    elif action.job_type == IMPORT_JOB:
        imported = import_request(sent, action, project_id if kind == "update" else None)
        body, path = imported.body(), "jobs/import/project_media"
        send = lambda on_send, ticket: client.import_project_media(  # noqa: E731
            imported, on_send, ticket
        )
    else:
        step = find_step(desired, action.step_id)
        if step.composition and kind == "step":
            name = step.composition
            target = composition_id(desired, project, name)
        on = project_id if kind == "step" else None
        prompt = agent_request(sent, step, on, target)
        body, path = prompt.body(), "jobs/agent"
        send = lambda on_send, ticket: client.agent(prompt, on_send, ticket)  # noqa: E731
        step_digest = digests.step_digest(salt, desired, step)
        step_prompt, step_model = shown.step_prompt(desired, step), shown.step_model(desired, step)
    sent_at, clock_error = client.clock.estimate()  # one estimate: the pair bounds the send
    intent = Intent(
        intent_id=str(uuid.uuid4()),
        action=kind,
        step_id=action.step_id,
        fingerprint=fingerprint("POST", path, body),
        sent_at=sent_at,
        clock_error=clock_error,
        job_type=action.job_type or "",
        media_names=sorted(action.media),
        composition_names=sorted(action.compositions),
        project_id=project_id if kind in ("update", "step", "publish") else None,
        facets=facets,
        media={n: facets.media[n] for n in action.media} if kind != "publish" else {},
        step_digest=step_digest,
        step_prompt=step_prompt,
        step_model=step_model,
        replaces=action.kind is ActionKind.REPLACE,
        composition=name,
        composition_id=target,
        publish=published,
    )
    return intent, send
