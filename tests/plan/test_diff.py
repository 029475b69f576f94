"""The diff, rule by rule, against hand-built states (no I/O, no clock)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from descript_iac.errors import PlanError
from descript_iac.plan import PlanOptions, compute_plan
from descript_iac.state.document import Intent, Quarantine, StateDocument
from tests.builders import desired_project, record_apply

MEDIA = {"host.wav": {"url": "https://cdn.example.com/ep/host.wav?sig=aaa"}}
COMPS = [{"name": "Full", "clips": [{"media": "host.wav"}]}]
STEPS = [{"id": "clean", "prompt": "Remove filler words"}, {"id": "caps", "prompt": "Add captions"}]
BASE = {"media": MEDIA, "compositions": COMPS, "steps": STEPS}


def with_(**changes: object) -> dict[str, object]:
    return {**BASE, **changes}


@dataclass
class Case:
    name: str
    config: dict[str, object] | None  # the project "ep" as configured now (None: removed)
    applied: dict[str, object] | None = None  # what was applied before (None: nothing)
    record: dict[str, object] = field(default_factory=dict)  # record_apply options
    options: PlanOptions = field(default_factory=PlanOptions)
    expect: list[tuple[str, str | None]] = field(default_factory=list)  # (symbol, step id)
    reason: str = ""  # a substring of some action's reason
    tweak: Callable[[StateDocument], None] | None = None
    defaults: dict[str, object] | None = None


CASES = [
    Case(
        "new project",
        BASE,
        expect=[("+", None), (">", "clean"), (">", "caps")],
        reason="one import job with 1 media and 1 composition",
    ),
    Case(
        "prompt-only project",
        {"steps": STEPS},
        expect=[("+", "clean"), (">", "caps")],
        reason="prompt-only, step clean creates the project",
    ),
    Case("up to date", BASE, applied=BASE, expect=[]),
    Case(
        "new step appended",
        with_(steps=[*STEPS, {"id": "reel", "prompt": "Make a highlight reel"}]),
        applied=BASE,
        expect=[(">", "reel")],
        reason="new step",
    ),
    Case(
        "applied prompt edited",
        with_(steps=[STEPS[0], {"id": "caps", "prompt": "Add red captions"}]),
        applied=BASE,
        expect=[("!", "caps")],
        reason="the prompt or model of applied step caps changed; agent edits cannot be undone",
    ),
    Case(
        "applied model changed through defaults",
        BASE,
        applied=BASE,
        defaults={"model": "fast"},
        expect=[("!", "clean"), ("!", "caps")],
        reason="prompt or model",
    ),
    Case(
        "steps reordered",
        with_(steps=[STEPS[1], STEPS[0]]),
        applied=BASE,
        expect=[("!", "caps"), ("!", "clean")],
        reason="steps were reordered: clean was applied as step 1 and is now step 2",
    ),
    Case(
        "applied step deleted",
        with_(steps=[STEPS[0]]),
        applied=BASE,
        expect=[("!", "caps")],
        reason="step caps was applied",
    ),
    Case(
        "step inserted before an applied one",
        with_(steps=[STEPS[0], {"id": "new", "prompt": "x"}, STEPS[1]]),
        applied=BASE,
        expect=[("!", "new")],
        reason="step new is inserted before applied step caps",
    ),
    Case(
        "failed step is re-run",
        BASE,
        applied=BASE,
        record={"steps": {"clean": "success", "caps": "error"}},
        expect=[(">", "caps")],
        reason="re-run: the last attempt failed (The agent could not complete the request)",
    ),
    Case(
        "failed step re-run with its edited prompt",
        with_(steps=[STEPS[0], {"id": "caps", "prompt": "Add captions, please"}]),
        applied=BASE,
        record={"steps": {"clean": "success", "caps": "error"}},
        expect=[(">", "caps")],
        reason="re-run with its edited prompt",
    ),
    Case(
        "media path changed is blocked",
        with_(media={"host.wav": {"url": "https://cdn.example.com/ep/host-v2.wav"}}),
        applied=BASE,
        expect=[("!", None)],
        reason="import-time inputs changed (media changed: host.wav)",
    ),
    Case(
        "media path changed with --allow-replace",
        with_(media={"host.wav": {"url": "https://cdn.example.com/ep/host-v2.wav"}}),
        applied=BASE,
        options=PlanOptions(allow_replace=True),
        expect=[("-/+", None), (">", "clean"), (">", "caps")],
        reason="stays in Descript, recorded as orphaned",
    ),
    Case(
        "lifecycle on_change replace",
        with_(name="Renamed", lifecycle={"on_change": "replace"}),
        applied=BASE,
        expect=[("-/+", None), (">", "clean"), (">", "caps")],
        reason="name changed",
    ),
    Case(
        "rotated query string is not a change",
        with_(media={"host.wav": {"url": "https://cdn.example.com/ep/host.wav?sig=bbb&exp=9"}}),
        applied=BASE,
        expect=[],
    ),
    Case(
        "revision bump forces a re-import",
        with_(media={"host.wav": {"url": "https://cdn.example.com/ep/host.wav", "revision": 2}}),
        applied=BASE,
        options=PlanOptions(allow_replace=True),
        expect=[("-/+", None), (">", "clean"), (">", "caps")],
        reason="media changed: host.wav",
    ),
    Case(
        "name change is blocked",
        with_(name="Renamed"),
        applied=BASE,
        expect=[("!", None)],
        reason="name changed",
    ),
    Case(
        "team access change is blocked",
        with_(team_access="view"),
        applied=BASE,
        expect=[("!", None)],
        reason="team_access changed",
    ),
    Case(
        "composition change is blocked",
        with_(compositions=[{"name": "Full", "fps": 30, "clips": [{"media": "host.wav"}]}]),
        applied=BASE,
        expect=[("!", None)],
        reason="compositions changed: Full",
    ),
    Case(
        "failed import taints: replaced",
        BASE,
        applied=BASE,
        record={"import_status": "error"},
        expect=[("-/+", None), (">", "clean"), (">", "caps")],
        reason="tainted, the import failed: Import failed",
    ),
    Case(
        "partial import taints and names the media",
        with_(media={**MEDIA, "guest.wav": {"url": "https://cdn.example.com/ep/guest.wav"}}),
        applied=with_(
            media={**MEDIA, "guest.wav": {"url": "https://cdn.example.com/ep/guest.wav"}}
        ),
        record={"import_status": "partial", "failed_media": ("guest.wav",)},
        expect=[("-/+", None), (">", "clean"), (">", "caps")],
        reason="the import was partial: guest.wav: Unsupported file type",
    ),
    Case(
        "removed from config is blocked",
        None,
        applied=BASE,
        expect=[("!", None)],
        reason="no longer in the config. Put it back; if it was renamed, add a moved block",
    ),
    Case(
        "removed from config with --allow-forget",
        None,
        applied=BASE,
        options=PlanOptions(allow_forget=True),
        expect=[("-", None)],
        reason="stays in Descript",
    ),
    Case(
        "media added with import-into-existing is an update",
        with_(media={**MEDIA, "outro.mp4": {"url": "https://cdn.example.com/outro.mp4"}}),
        applied=BASE,
        options=PlanOptions(import_into_existing=True),
        expect=[("~", None)],
        reason="in place (the API can import into an existing project): media added: outro.mp4",
    ),
    Case(
        "media added without the capability is blocked",
        with_(media={**MEDIA, "outro.mp4": {"url": "https://cdn.example.com/outro.mp4"}}),
        applied=BASE,
        expect=[("!", None)],
        reason="media added: outro.mp4",
    ),
    Case(
        "media changed is blocked even with the capability",
        with_(media={"host.wav": {"url": "https://cdn.example.com/other.wav"}}),
        applied=BASE,
        options=PlanOptions(import_into_existing=True),
        expect=[("!", None)],
        reason="media changed: host.wav",
    ),
    Case(
        "--replace forces a new project",
        BASE,
        applied=BASE,
        options=PlanOptions(replace=("ep",)),
        expect=[("-/+", None), (">", "clean"), (">", "caps")],
        reason="replacement requested with --replace",
    ),
    Case(
        "prompt-only replace re-creates with the first step",
        {"steps": STEPS, "name": "New name"},
        applied={"steps": STEPS},
        options=PlanOptions(allow_replace=True),
        expect=[("-/+", "clean"), (">", "caps")],
        reason="name changed",
    ),
    Case(
        "job still running from a --no-wait apply",
        BASE,
        applied=BASE,
        record={"steps": {"clean": "running"}},
        expect=[("*", "clean"), (">", "caps")],
        reason="from an earlier apply is running; apply waits for it",
    ),
    Case(
        "open intent is resolved first",
        BASE,
        applied=BASE,
        tweak=lambda doc: doc.projects["ep"].intents.append(
            Intent(
                intent_id="i1",
                action="step",
                step_id="reel",
                fingerprint="sha256:x",
                sent_at=1.0,
                job_type="agent",
                outcome="unknown",
            )
        ),
        expect=[("?", "reel")],
        reason="the reply to the step reel job was lost (unknown); apply looks for it in the job history",
    ),
    Case(
        "quarantined project is blocked",
        BASE,
        applied=BASE,
        tweak=lambda doc: setattr(
            doc.projects["ep"],
            "quarantine",
            Quarantine(reason="2 jobs could be it", candidates=["a", "b"]),
        ),
        expect=[("!", None)],
        reason="descript-iac state adopt ep JOB_ID",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_diff_rule(case: Case) -> None:
    doc = StateDocument()
    if case.applied is not None:
        record_apply(doc, desired_project("ep", **case.applied), **case.record)  # type: ignore[arg-type]
    if case.tweak:
        case.tweak(doc)
    desired = {}
    if case.config is not None:
        desired["ep"] = desired_project("ep", defaults=case.defaults, **case.config)
    plan = compute_plan(desired, doc, case.options)
    got = [(a.symbol, a.step_id) for a in plan.actions]
    assert got == case.expect
    if case.reason:
        reasons = [a.reason for a in plan.actions]
        assert any(case.reason in r for r in reasons), reasons
    if not case.expect:
        assert plan.up_to_date == ("ep",) and not plan.has_changes


def test_plan_is_a_pure_function_of_its_inputs() -> None:
    doc = record_apply(StateDocument(), desired_project("ep", **BASE))
    desired = {
        "ep": desired_project("ep", **with_(name="Other")),
        "new": desired_project("new", **BASE),
    }
    first = compute_plan(desired, doc, PlanOptions(allow_replace=True))
    second = compute_plan(desired, doc, PlanOptions(allow_replace=True))
    assert first == second
    assert first.lineage == doc.lineage and first.serial == doc.serial


def test_targets_limit_the_plan_and_unknown_targets_fail() -> None:
    desired = {"a": desired_project("a", **BASE), "b": desired_project("b", **BASE)}
    plan = compute_plan(desired, StateDocument(), PlanOptions(targets=("b",)))
    assert {a.address for a in plan.actions} == {"b"} and plan.untargeted == ("a",)
    with pytest.raises(PlanError, match="--target zz: no such project"):
        compute_plan(desired, StateDocument(), PlanOptions(targets=("zz",)))


def test_summary_line_counts() -> None:
    doc = record_apply(StateDocument(), desired_project("old", **BASE))
    desired = {
        "a": desired_project("a", **BASE),
        "p": desired_project("p", steps=STEPS),
        "old": desired_project("old", **with_(name="x")),
    }
    plan = compute_plan(desired, doc, PlanOptions(allow_replace=True))
    assert (
        plan.summary() == "Plan: 2 projects to create, 6 steps to run, 1 to replace, 0 to forget."
    )
    assert plan.estimated_jobs == 8


def test_state_keeps_urls_for_reviewers_but_no_query_string() -> None:
    doc = record_apply(StateDocument(), desired_project("ep", **BASE))
    text = json.dumps(doc.to_json())
    assert "sig=aaa" not in text
    facets = doc.projects["ep"].facets
    assert facets is not None and facets.shown is not None
    assert facets.shown.media["host.wav"] == "https://cdn.example.com/ep/host.wav"
