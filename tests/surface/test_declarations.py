"""Declaring the rest of a project's life: publish, exports, folder, a step's composition.

Against the 2026 emulator each declaration is applied (a publish job after the steps, its
share_url recorded and never the signed download_url, captions written beside the config); a
changed publish setting is a new `^ publish`; against the seed-level emulator the plan names the
feature the API lacks and nothing is sent.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.builders import (
    PUBLISHED_WORKSPACE,
    cli_env,
    emulator_jobs,
    inspect,
    run_cli,
    serving,
    write_workspace,
)


@pytest.fixture
def api2026():  # type: ignore[no-untyped-def]
    with serving(api_level="2026") as (running, _api):
        yield running


@pytest.fixture
def seed():  # type: ignore[no-untyped-def]
    with serving() as (running, _api):
        yield running


def apply(running, root: Path, *extra: str):  # type: ignore[no-untyped-def]
    return run_cli(
        "apply",
        str(root),
        "--auto-approve",
        "--poll-interval",
        "0.05",
        *extra,
        env=cli_env(running),
    )


def state(root: Path) -> dict:
    return json.loads((Path("state") / f"{root.name}.json").read_text())


def job_types(running) -> Counter[str]:  # type: ignore[no-untyped-def]
    return Counter(j["job_type"] for j in emulator_jobs(running))


def test_publish_runs_after_the_steps_and_records_only_the_share_url(
    api2026, tmp_path: Path
) -> None:
    root = write_workspace(tmp_path / "show", {"main.yaml": PUBLISHED_WORKSPACE})
    planned = run_cli("plan", str(root), env=cli_env(api2026))
    assert "^ publish Full episode  new publish (Video 1080p unlisted) after the jobs above" in (
        planned.output
    )
    result = apply(api2026, root)
    assert result.exit_code == 0, result.output
    order = [line.split(": ")[1] for line in result.output.splitlines() if "submitted job" in line]
    assert order == ["create", "step clean", "publish Full episode"]
    assert "1 published" in result.output
    record = state(root)["projects"]["ep-1"]["publishes"]["Full episode"]
    assert record["status"] == "success"
    assert record["share_url"].startswith("https://share.descript.com/view/")
    assert record["settings"] == {
        "media_type": "Video",
        "resolution": "1080p",
        "access_level": "unlisted",
    }
    # The signed, expiring download link is in the job's result, never in the state or caches.
    job = inspect(api2026, "projects").json()["projects"][0]["jobs"][-1]
    assert job["job_type"] == "publish"
    for path in [*Path("state").rglob("*"), *Path.home().rglob("*")]:
        if path.is_file():
            assert "download_url" not in path.read_text(errors="replace"), path
    again = run_cli("plan", str(root), "--detailed-exitcode", env=cli_env(api2026))
    assert again.exit_code == 0 and "No changes" in again.output


def test_a_changed_publish_setting_is_a_new_publish_never_silent(api2026, tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "show", {"main.yaml": PUBLISHED_WORKSPACE})
    assert apply(api2026, root).exit_code == 0
    share_url = state(root)["projects"]["ep-1"]["publishes"]["Full episode"]["share_url"]
    (root / "main.yaml").write_text(PUBLISHED_WORKSPACE.replace("1080p", "720p").lstrip())
    planned = run_cli("plan", str(root), "--detailed-exitcode", env=cli_env(api2026))
    assert planned.exit_code == 2
    assert (
        "^ publish Full episode  publish settings changed: resolution 1080p -> 720p; publishes again"
        in planned.output
    )
    assert "1 to publish" in planned.output
    assert apply(api2026, root).exit_code == 0
    record = state(root)["projects"]["ep-1"]["publishes"]["Full episode"]
    assert record["settings"]["resolution"] == "720p"
    assert record["share_url"] == share_url  # a republish keeps its page
    assert len(record["earlier_job_ids"]) == 1
    assert job_types(api2026)["publish"] == 2


def test_a_new_step_republishes_after_it(api2026, tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "show", {"main.yaml": PUBLISHED_WORKSPACE})
    assert apply(api2026, root).exit_code == 0
    text = PUBLISHED_WORKSPACE + "      - id: caps\n        prompt: Add captions\n"
    (root / "main.yaml").write_text(text.lstrip())
    planned = run_cli("plan", str(root), env=cli_env(api2026))
    assert "> step caps" in planned.output
    assert "^ publish Full episode  republish after the jobs above" in planned.output
    result = apply(api2026, root)
    order = [line.split(": ")[1] for line in result.output.splitlines() if "submitted job" in line]
    assert order == ["step caps", "publish Full episode"]


def test_publish_refused_by_the_drive_fails_clearly_and_sends_nothing_else(
    tmp_path: Path,
) -> None:
    text = PUBLISHED_WORKSPACE.replace("access_level: unlisted", "access_level: public")
    root = write_workspace(tmp_path / "show", {"main.yaml": text})
    with serving(api_level="2026", publish_access_levels=["unlisted"]) as (running, _api):
        result = apply(running, root)
        assert result.exit_code == 1
        assert "publish Full episode" in result.output and "403" in result.output
        assert "access_level 'public' is not permitted" in result.output
        assert job_types(running) == Counter({"import/project_media": 1, "agent": 1})
        project = state(root)["projects"]["ep-1"]
        assert project["intents"] == [] and project["publishes"] == {}


def test_a_publish_whose_reply_is_lost_is_found_not_sent_twice(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "show", {"main.yaml": PUBLISHED_WORKSPACE})
    with serving(api_level="2026", next_posts_by_type={"publish": ["lose"]}) as (running, _api):
        result = apply(running, root)
        assert result.exit_code == 0, result.output
        assert ": found in the job history" in result.output
        assert job_types(running)["publish"] == 1
        assert state(root)["projects"]["ep-1"]["publishes"]["Full episode"]["status"] == "success"


EXPORTS = """
    exports:
      - {composition: Full episode, subtitles: captions/ep-1.vtt, metadata: captions/ep-1.json}
"""


def test_exports_write_captions_and_metadata_beside_the_config(api2026, tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "show", {"main.yaml": PUBLISHED_WORKSPACE + EXPORTS})
    result = apply(api2026, root)
    assert result.exit_code == 0, result.output
    assert "wrote captions/ep-1.vtt, wrote captions/ep-1.json" in result.output
    vtt = (root / "captions" / "ep-1.vtt").read_text()
    assert vtt.startswith("WEBVTT\n") and "host.wav" in vtt
    meta = json.loads((root / "captions" / "ep-1.json").read_text())
    assert meta["metadata"]["title"] == "Episode 1" and meta["privacy"] == "unlisted"
    assert "subtitles" not in meta and "download_url" not in meta
    again = apply(api2026, root)
    assert "captions/ep-1.vtt unchanged, captions/ep-1.json unchanged" in again.output
    assert "No changes" in again.output


def test_an_export_by_slug_and_a_missing_slug(api2026, tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "show", {"main.yaml": PUBLISHED_WORKSPACE})
    assert apply(api2026, root).exit_code == 0
    share = state(root)["projects"]["ep-1"]["publishes"]["Full episode"]["share_url"]
    slug = share.rsplit("/", 1)[1]
    text = (
        PUBLISHED_WORKSPACE
        + f"""    exports:
      - {{published: "{slug}", subtitles: subs/by-slug.vtt}}
      - {{published: no-such-slug, subtitles: subs/missing.vtt}}
"""
    )
    (root / "main.yaml").write_text(text.lstrip())
    result = apply(api2026, root)
    assert result.exit_code == 1  # the missing slug fails the run; the other file is written
    assert f"export of {slug}: wrote subs/by-slug.vtt" in result.output
    assert "export of no-such-slug failed" in result.output and "404" in result.output
    assert (root / "subs" / "by-slug.vtt").exists() and not (root / "subs" / "missing.vtt").exists()


def test_folder_and_step_composition_reach_the_api(api2026, tmp_path: Path) -> None:
    text = PUBLISHED_WORKSPACE.replace(
        "    name: Episode 1\n", "    name: Episode 1\n    folder: Clients/Acme\n"
    )
    text = text.replace(
        "prompt: Remove filler words",
        "prompt: Remove filler words\n        composition: Full episode",
    )
    root = write_workspace(tmp_path / "show", {"main.yaml": text})
    assert apply(api2026, root).exit_code == 0
    project = inspect(api2026, "projects").json()["projects"][0]
    assert project["folder_path"] == "Clients/Acme"
    made = {c["name"]: c["id"] for c in project["compositions"]}
    assert [e["composition_id"] for e in project["edits"]] == [made["Full episode"]] * len(
        project["edits"]
    )
    assert project["edits"]


def test_seed_level_api_blocks_each_feature_before_anything_is_sent(seed, tmp_path: Path) -> None:
    text = PUBLISHED_WORKSPACE.replace(
        "    name: Episode 1\n", "    name: Episode 1\n    folder: Clients/Acme\n"
    )
    text = text.replace(
        "prompt: Remove filler words",
        "prompt: Remove filler words\n        composition: Full episode",
    )
    root = write_workspace(tmp_path / "show", {"main.yaml": text})
    planned = run_cli("plan", str(root), "--refresh", env=cli_env(seed))
    assert planned.exit_code == 1
    for feature in ("'folders'", "'composition_id'", "'publish'"):
        assert f"it needs the {feature} feature" in planned.output
    assert "is not supported by this API (level seed)" in planned.output
    assert "composition 'Full episode': `publish:`" in planned.output
    result = apply(seed, root)
    assert result.exit_code == 1 and "the plan is blocked; nothing was applied" in result.output
    assert emulator_jobs(seed) == []


def test_plan_without_refresh_names_the_features_it_will_check(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "show", {"main.yaml": PUBLISHED_WORKSPACE})
    planned = run_cli("plan", str(root))  # no token, no API call
    assert planned.exit_code == 0
    assert "Needs API features: publish (Descript's 2026 API); apply checks them" in planned.output
