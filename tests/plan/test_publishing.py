"""Publish actions and API features in the plan (pure: no I/O), and the resolver's and the
journal's handling of publish jobs."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import msgspec

from descript_iac.api.models import Job
from descript_iac.apply.resolve import Evidence, resolve
from descript_iac.plan import PlanOptions, compute_plan
from descript_iac.plan.model import ActionKind
from descript_iac.state.document import Intent, PublishRecord, PublishSettings, StateDocument
from descript_iac.state.events import JobUpdated, apply_event
from descript_iac.timing import Timing
from tests.builders import desired_project, record_apply, run_cli

MEDIA = {"host.wav": {"url": "https://cdn.example.com/host.wav"}}
FULL = {"name": "Full", "clips": [{"media": "host.wav"}], "publish": {"resolution": "1080p"}}
STEPS = [{"id": "clean", "prompt": "Remove filler words"}]
ALL = ("cancel", "composition_id", "folders", "import-into-existing", "projects", "publish")


def project(**overrides: object):  # type: ignore[no-untyped-def]
    spec: dict[str, object] = {"media": MEDIA, "compositions": [FULL], "steps": STEPS}
    return desired_project("ep", **{**spec, **overrides})


def applied(published: dict | None = None) -> StateDocument:
    """A state where `ep` was imported and its step ran; with `published`, a publish record."""
    doc = StateDocument(salt="s")
    record_apply(doc, project())
    state = doc.projects["ep"]
    if published is not None:
        base = {
            "composition": "Full",
            "settings": PublishSettings(resolution="1080p"),
            "job_id": "pub-1",
            "job_state": "stopped",
            "status": "success",
            "share_url": "https://share.descript.com/view/abc",
            "content": state.content(),
        }
        state.publishes["Full"] = msgspec.convert({**base, **published}, PublishRecord)
    return doc


def actions(doc: StateDocument, options: PlanOptions | None = None, **overrides: object):  # type: ignore[no-untyped-def]
    plan = compute_plan({"ep": project(**overrides)}, doc, options or PlanOptions(api_features=ALL))
    return [(a.kind, a.label, a.reason) for a in plan.actions]


def test_a_new_project_publishes_after_its_steps() -> None:
    found = actions(StateDocument(salt="s"))
    assert [k for k, *_ in found] == [ActionKind.CREATE, ActionKind.RUN, ActionKind.PUBLISH]
    assert found[-1][1:] == ("publish Full", "new publish (Video 1080p) after the jobs above")


def test_an_applied_project_publishes_once_and_then_is_up_to_date() -> None:
    assert actions(applied()) == [(ActionKind.PUBLISH, "publish Full", "new publish (Video 1080p)")]
    assert actions(applied({})) == []


def test_each_reason_to_publish_again() -> None:
    changed = {**FULL, "publish": {"resolution": "720p", "access_level": "unlisted"}}
    assert actions(applied({}), compositions=[changed])[0][2] == (
        "publish settings changed: resolution 1080p -> 720p, access_level default -> unlisted; "
        "publishes again"
    )
    failed = actions(applied({"status": "error", "error_message": "Export failed"}))
    assert failed[0][2] == "the last publish did not succeed (Export failed); publishes again"
    stale = actions(applied({"content": ["an-older-import"]}))
    assert stale[0][2] == "the project changed since it was published; publishes again"
    more = actions(applied({}), steps=[*STEPS, {"id": "caps", "prompt": "Add captions"}])
    assert [(k, label) for k, label, _ in more] == [
        (ActionKind.RUN, "step caps"),
        (ActionKind.PUBLISH, "publish Full"),
    ]
    assert more[1][2] == "republish after the jobs above (the share page would be stale)"


def test_a_running_publish_is_awaited_not_sent_again() -> None:
    found = actions(applied({"job_state": "running", "status": None}))
    assert found == [
        (
            ActionKind.AWAIT,
            "publish Full",
            "publish job pub-1 from an earlier apply is running; apply waits for it",
        )
    ]


def test_publish_is_not_part_of_the_projects_identity() -> None:
    """Adding `publish:` to an applied composition must not look like an import change."""
    doc = StateDocument(salt="s")
    record_apply(doc, project(compositions=[{"name": "Full", "clips": [{"media": "host.wav"}]}]))
    kinds = [k for k, *_ in actions(doc)]
    assert kinds == [ActionKind.PUBLISH]


def test_features_the_api_lacks_are_blocked_and_features_unknown_are_named() -> None:
    seed = PlanOptions(api_features=(), api_level="seed")
    found = actions(StateDocument(salt="s"), seed, folder="Clients/Acme")
    assert [k for k, *_ in found] == [ActionKind.BLOCKED, ActionKind.RUN, ActionKind.BLOCKED]
    assert (
        "`folder:` (folder_name on imports) is not supported by this API (level seed)"
        in (found[0][2])
    )
    assert found[2][2].startswith("composition 'Full': `publish:`")
    unknown = compute_plan({"ep": project(folder="A")}, StateDocument(salt="s"), PlanOptions())
    assert not unknown.blocked and unknown.needs == ("folders", "publish")


def test_journal_never_keeps_a_signed_download_url() -> None:
    doc = applied({"job_state": "running", "status": None})
    job = {
        "job_id": "pub-1",
        "job_type": "publish",
        "job_state": "stopped",
        "result": {
            "status": "success",
            "composition_id": "c1",
            "share_url": "https://share.descript.com/view/abc",
            "download_url": "https://storage.example.com/f.mp4?X-Goog-Signature=s",
            "download_url_expires_at": "2026-01-01T00:00:00Z",
        },
    }
    event = JobUpdated(address="ep", job=job)
    assert "download_url" not in event.model_dump_json()
    apply_event(doc, event)
    record = doc.projects["ep"].publishes["Full"]
    assert record.status == "success" and record.composition_id == "c1"
    assert "download_url" not in json.dumps(doc.to_json())


def _publish_job(job_id: str, composition: str | None, at: float) -> Job:
    body: dict[str, object] = {
        "job_id": job_id,
        "job_type": "publish",
        "job_state": "stopped",
        "created_at": datetime.fromtimestamp(at, tz=timezone.utc).isoformat(),
        "project_id": "p1",
        "result": {"status": "success", "share_url": "https://share.descript.com/view/x"},
    }
    if composition:
        body["result"]["composition_id"] = composition  # type: ignore[index]
    return Job.model_validate(body)


def test_a_publish_of_another_composition_is_never_adopted() -> None:
    sent = 1_800_000_000.0
    intent = Intent(
        intent_id="i",
        action="publish",
        fingerprint="sha256:x",
        sent_at=sent,
        clock_error=1.0,
        job_type="publish",
        project_id="p1",
        composition="Full",
        composition_id="c-full",
        publish=PublishSettings(),
    )
    timing = Timing(commit_span=10, history_lag=0)

    def verdict(*jobs: Job):  # type: ignore[no-untyped-def]
        evidence = Evidence(jobs, sent + 60, frozenset(), frozenset(), "s")
        return resolve(intent, evidence, timing)

    ours, other = _publish_job("ours", "c-full", sent + 1), _publish_job("x", "c-trailer", sent + 2)
    assert verdict(ours, other).kind == "adopt" and verdict(ours, other).job == ours
    assert verdict(other).kind == "reissue"
    assert verdict(ours, _publish_job("y", "c-full", sent + 3)).kind == "quarantine"


def test_embedded_emulator_speaks_the_2026_api_when_asked(tmp_path: Path) -> None:
    # examples/published needs the 2026 API: at the embedded emulator's default (seed) level
    # the plan is blocked and points to --api-level 2026, which then applies it.
    example = Path(__file__).parents[2] / "examples" / "published"
    shutil.copytree(example, tmp_path / "published")
    workspace = str(tmp_path / "published")
    blocked = run_cli("plan", workspace, "--emulator", "--refresh")
    assert "--emulator --api-level 2026" in blocked.output, blocked.output
    applied = run_cli(
        "apply",
        workspace,
        "--emulator",
        "--api-level",
        "2026",
        "--auto-approve",
        "--forecast",
        "off",
    )
    assert applied.exit_code == 0, applied.output
    assert "1 published" in applied.output
    assert "No changes" in run_cli("plan", workspace, "--emulator", "--api-level", "2026").output
    alone = run_cli("plan", workspace, "--api-level", "2026")
    assert alone.exit_code == 1 and "use it with --emulator" in alone.output
