"""Build the API requests an action sends, from the desired project."""

from __future__ import annotations

from descript_iac.api.models import (
    AgentRequest,
    ClipRequest,
    CompositionRequest,
    ImportRequest,
    SequenceRequest,
    TrackRequest,
    UrlMediaRequest,
)
from descript_iac.config.desired import DesiredProject
from descript_iac.config.model import AgentStep, SequenceMedia
from descript_iac.plan.model import Action


def import_request(
    project: DesiredProject, action: Action, project_id: str | None = None
) -> ImportRequest:
    media: dict[str, UrlMediaRequest | SequenceRequest] = {}
    for name in action.media:
        item = project.spec.media[name]
        if isinstance(item, SequenceMedia):
            tracks = [TrackRequest(media=t.media, offset=t.offset) for t in item.tracks]
            media[name] = SequenceRequest(tracks=tracks)
        else:
            media[name] = UrlMediaRequest(url=item.url, language=item.language)
    wanted = set(action.compositions)
    compositions = [
        CompositionRequest(
            name=c.name,
            clips=[ClipRequest(media=clip.media) for clip in c.clips],
            width=c.width,
            height=c.height,
            fps=c.fps,
        )
        for c in project.spec.compositions
        if c.name in wanted
    ]
    if project_id:  # import into an existing project (capability import-into-existing)
        return ImportRequest(
            project_id=project_id,
            add_media=media,
            add_compositions=compositions,
            callback_url=project.callback_url,
        )
    return ImportRequest(
        project_name=project.name,
        team_access=project.team_access,
        add_media=media,
        add_compositions=compositions,
        callback_url=project.callback_url,
    )


def agent_request(project: DesiredProject, step: AgentStep, project_id: str | None) -> AgentRequest:
    if project_id is None:  # prompt-only: this step creates the project
        return AgentRequest(
            project_name=project.name,
            team_access=project.team_access,
            prompt=step.prompt,
            model=project.step_model(step),
            callback_url=project.callback_url,
        )
    return AgentRequest(
        project_id=project_id,
        prompt=step.prompt,
        model=project.step_model(step),
        callback_url=project.callback_url,
    )


def find_step(project: DesiredProject, step_id: str | None) -> AgentStep:
    for step in project.spec.steps:
        if step.id == step_id:
            return step
    raise KeyError(f"{project.address}: no step {step_id}")
