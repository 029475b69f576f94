"""The plan's three formats, checked by snapshots; JSON validated by schemas/plan.schema.json."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import msgspec
import pytest

from descript_iac.plan import PlanOptions, compute_plan
from descript_iac.plan.markdown import render_markdown
from descript_iac.plan.render import render_text
from descript_iac.plan.report import render_json, render_plan_schema
from descript_iac.redact import register_secret
from descript_iac.state.document import StateDocument
from tests.builders import REPO, desired_project, record_apply

SNAPSHOTS = Path(__file__).parent / "snapshots"
PLAN_SCHEMA = REPO / "schemas" / "plan.schema.json"
MEDIA = {"host.wav": {"url": "https://cdn.example.com/ep/host.wav"}}
STEPS = [{"id": "clean", "prompt": "Remove filler words"}, {"id": "caps", "prompt": "Add captions"}]


def sample_plan(blocked: bool = False):  # type: ignore[no-untyped-def]
    doc = StateDocument(lineage="00000000-0000-4000-8000-000000000001", salt="fixed-salt", serial=7)
    record_apply(doc, desired_project("ep-1", media=MEDIA, steps=STEPS))
    record_apply(doc, desired_project("gone", media=MEDIA, steps=STEPS))
    record_apply(doc, desired_project("done", media=MEDIA, steps=STEPS))
    desired = {
        "ep-1": desired_project(
            "ep-1", media=MEDIA, steps=[*STEPS, {"id": "reel", "prompt": "Make a reel | short"}]
        ),
        "ep-2": desired_project(
            "ep-2",
            media={**MEDIA, "guest.wav": {"url": "https://cdn.example.com/g.wav?sig=SECRET"}},
            compositions=[{"name": "Full", "clips": [{"media": "host.wav"}]}],
            steps=STEPS,
        ),
        "done": desired_project(
            "done", media=MEDIA, steps=[STEPS[0], {"id": "caps", "prompt": "Red captions"}]
        )
        if blocked
        else desired_project("done", media=MEDIA, steps=STEPS),
        "script": desired_project("script", steps=STEPS),
    }
    return compute_plan(desired, doc, PlanOptions(allow_forget=True))


def check_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") or not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert text == path.read_text(), f"{name} changed; rerun with UPDATE_SNAPSHOTS=1 if intended"


@pytest.mark.parametrize("blocked", [False, True], ids=["ok", "blocked"])
def test_text_snapshot(blocked: bool) -> None:
    check_snapshot(f"plan-{'blocked' if blocked else 'ok'}.txt", render_text(sample_plan(blocked)))


def test_markdown_snapshot() -> None:
    check_snapshot("plan.md", render_markdown(sample_plan(blocked=True)))


def test_json_snapshot_and_schema() -> None:
    text = render_json(sample_plan())
    check_snapshot("plan.json", text)
    schema = json.loads(PLAN_SCHEMA.read_text())
    jsonschema.Draft202012Validator(schema).validate(json.loads(text))


def test_plan_schema_is_current() -> None:
    assert PLAN_SCHEMA.read_text() == render_plan_schema(), (
        "schemas/plan.schema.json is stale: run `descript-iac schema --plan > schemas/plan.schema.json`"
    )


def test_no_secret_in_any_format() -> None:
    for text in (
        render_text(sample_plan()),
        render_json(sample_plan()),
        render_markdown(sample_plan()),
    ):
        assert "SECRET" not in text and "sig=" not in text
        assert "https://cdn.example.com/g.wav" in text  # the URL a reviewer checks, sans query
        assert "g.wav?" not in text  # stripped, not merely masked


def _from_env(project, *paths, value: str):  # type: ignore[no-untyped-def]
    """`project` as if the values at `paths` came from ${env:...} (registered as a secret)."""
    register_secret(value)
    return msgspec.structs.replace(project, secret_paths=frozenset(paths))


def test_every_format_shows_prompts_and_sources_and_masks_environment_values() -> None:
    env_url = "https://private.example.com/raw/take-7.wav"
    env_prompt = "Use the sponsor line from the contract"
    project = desired_project(
        "ep",
        media={
            "host.wav": {"url": env_url},
            "intro.mp4": {"url": "https://cdn.example.com/i.mp4?x=1"},
        },
        steps=[
            {"id": "s1", "prompt": env_prompt},
            {"id": "s2", "prompt": "Add captions", "model": "m2"},
        ],
    )
    project = _from_env(
        project, ("media", "host.wav", "url"), ("steps", 0, "prompt"), value=env_url
    )
    register_secret(env_prompt)
    plan = compute_plan({"ep": project}, StateDocument(), PlanOptions())
    data = json.loads(render_json(plan))
    by_step = {a["step_id"]: a for a in data["actions"]}
    assert by_step["s2"]["prompt"] == "Add captions" and by_step["s2"]["model"] == "m2"
    assert by_step["s1"]["prompt"] == "***"
    sends = {x["name"]: x["detail"] for x in by_step[None]["sends"]}
    assert sends == {"host.wav": "***", "intro.mp4": "https://cdn.example.com/i.mp4"}
    for text in (render_text(plan), render_markdown(plan), render_json(plan)):
        assert "Add captions" in text and "https://cdn.example.com/i.mp4" in text
        assert "i.mp4?" not in text
        assert env_url not in text and env_prompt not in text and "x=1" not in text
        assert "private.example.com" not in text


def test_a_value_from_the_environment_is_masked_even_when_too_short_to_be_scrubbed() -> None:
    # redact() leaves values under 4 characters alone; the plan knows where they came from
    project = desired_project("ep", steps=[{"id": "s1", "prompt": "Go!"}])
    project = msgspec.structs.replace(project, secret_paths=frozenset({("steps", 0, "prompt")}))
    plan = compute_plan({"ep": project}, StateDocument(), PlanOptions())
    assert plan.actions[0].prompt == "***"
    assert "Go!" not in render_json(plan) + render_text(plan) + render_markdown(plan)


def test_changed_facets_show_old_and_new_values() -> None:
    doc = StateDocument(salt="s")
    before = desired_project("ep", name="Episode 4", media=MEDIA, steps=STEPS)
    record_apply(doc, before)
    after = desired_project(
        "ep",
        name="Episode 4: Tea",
        media={"host.wav": {"url": "https://cdn.example.com/ep/host-v2.wav"}},
        steps=[STEPS[0], {"id": "caps", "prompt": "Add red captions"}],
    )
    text = render_text(compute_plan({"ep": after}, doc, PlanOptions()))
    assert 'name: "Episode 4" -> "Episode 4: Tea"' in text
    assert (
        "media host.wav: https://cdn.example.com/ep/host.wav -> "
        "https://cdn.example.com/ep/host-v2.wav" in text
    )
    assert 'prompt: "Add captions" -> "Add red captions"' in text


def test_a_state_from_before_format_3_says_the_old_value_was_not_recorded() -> None:
    doc = StateDocument(salt="s")
    record_apply(doc, desired_project("ep", media=MEDIA, steps=STEPS))
    record = doc.projects["ep"]
    assert record.facets is not None
    record.facets = msgspec.structs.replace(record.facets, shown=None)
    for step in record.steps:
        step.prompt = None
    after = desired_project(
        "ep", name="New", media=MEDIA, steps=[STEPS[0], {"id": "caps", "prompt": "Red"}]
    )
    text = render_text(compute_plan({"ep": after}, doc, PlanOptions()))
    assert "name: (not recorded) -> New" in text
    assert "prompt: (not recorded) -> Red" in text


def test_markdown_shows_a_prompt_in_a_fenced_block_as_written() -> None:
    assert "```text\nMake a reel | short\n```" in render_markdown(sample_plan())


def test_no_changes_text() -> None:
    doc = record_apply(StateDocument(), desired_project("ep", media=MEDIA, steps=STEPS))
    plan = compute_plan({"ep": desired_project("ep", media=MEDIA, steps=STEPS)}, doc, PlanOptions())
    assert render_text(plan) == "No changes. 1 project is up to date.\n"
