"""Build the API requests an action sends, from the desired project."""

from __future__ import annotations

from descript_iac.api.models import (
    AgentRequest,
    ClipRequest,
    CompositionRequest,
    ImportRequest,
    PublishRequest,
    SequenceRequest,
    TrackRequest,
    UrlMediaRequest,
)
from descript_iac.config.desired import DesiredProject
from descript_iac.config.model import AgentStep, Composition, SequenceMedia
from descript_iac.errors import DescriptIacError
from descript_iac.plan.model import Action
from descript_iac.state.document import ProjectState


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
        folder_name=project.spec.folder,
        add_media=media,
        add_compositions=compositions,
        callback_url=project.callback_url,
    )


def composition_id(project: DesiredProject, state: ProjectState | None, name: str) -> str:
    """The id of the project's composition `name`, as its import created it."""
    found = state.composition_ids() if state is not None else {}
    if name not in found:
        made = ", ".join(sorted(found)) or "none"
        raise DescriptIacError(
            f"{project.address}: composition '{name}' is not among the compositions the project's "
            f"import created ({made}); check the import's result (`descript-iac state show`)"
        )
    return found[name]


def agent_request(
    project: DesiredProject,
    step: AgentStep,
    project_id: str | None,
    target: str | None = None,
) -> AgentRequest:
    """`target`: the id of the composition the step works on (its `composition:`)."""
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
        composition_id=target,
        model=project.step_model(step),
        callback_url=project.callback_url,
    )


def find_composition(project: DesiredProject, name: str) -> Composition:
    for composition in project.spec.compositions:
        if composition.name == name:
            return composition
    raise KeyError(f"{project.address}: no composition {name}")


def publish_request(
    project: DesiredProject, composition: Composition, project_id: str, target: str
) -> PublishRequest:
    publish = composition.publish
    assert publish is not None
    return PublishRequest(
        project_id=project_id,
        composition_id=target,
        media_type=publish.media_type,
        resolution=publish.resolution,
        access_level=publish.access_level,
        callback_url=project.callback_url,
    )


def find_step(project: DesiredProject, step_id: str | None) -> AgentStep:
    for step in project.spec.steps:
        if step.id == step_id:
            return step
    raise KeyError(f"{project.address}: no step {step_id}")
