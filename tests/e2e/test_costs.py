"""Know the bill before paying it (issue #23), over a real socket with the real CLI: the plan's
forecast of media seconds (read from the files) and AI credits (from what this drive's steps
cost), budgets that refuse an apply or stop one in time, and nothing lost or run twice."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from tests.builders import cli_env, emulator_jobs, run_cli, serving, write_workspace
from tests.media import files
from tests.media.server import media_host

pytestmark = pytest.mark.e2e

CHEAP = "Add music"  # the emulator bills 8 credits
DEAR = ("Add music, captions, studio sound, a title card, a highlight reel; trim it. " * 6)[:400]
# 6 edits x 8 + 40 for its length: 88 credits


def _project(name: str, steps: list[tuple[str, str]], media: str = "") -> str:
    lines = [f"  {name}:", f"    name: {name}"]
    if media:
        lines += ["    media:", f"      host.wav: {{url: '{media}'}}"]
    if steps:
        lines.append("    steps:")
        lines += [f"      - {{id: {sid}, prompt: '{prompt}'}}" for sid, prompt in steps]
    return "\n".join(lines) + "\n"


def _workspace(root: Path, body: str) -> Path:
    return write_workspace(root, {"main.yaml": "version: 1\nprojects:\n" + body})


def _agent_jobs(running: Any) -> list[dict[str, Any]]:
    return [j for j in emulator_jobs(running) if j["job_type"] == "agent"]


def test_the_plan_forecasts_media_from_the_files_and_the_emulator_bills_the_same(
    tmp_path: Path,
) -> None:
    durations = [1.5 + i * 0.25 for i in range(50)]  # 50 imports of known durations
    wavs = {f"ep{i}.wav": files.wav(d) for i, d in enumerate(durations)}
    with media_host(wavs) as host, serving(read_media=True) as (running, _api):
        body = "".join(
            _project(f"ep{i}", [], f"{host.url}/files/ep{i}.wav?sig=s3cret")
            for i in range(len(durations))
        )
        root = _workspace(tmp_path / "ws", body)
        env = {**cli_env(running), "XDG_CACHE_HOME": str(tmp_path / "cache")}
        state = str(tmp_path / "state.json")
        planned = run_cli("--state", state, "plan", str(root), "--format", "json", env=env)
        assert planned.exit_code == 0, planned.output
        forecast = json.loads(planned.output)["forecast"]
        by_address = {a["address"]: a["media_seconds"] for a in forecast["actions"]}
        for i, seconds in enumerate(durations):
            assert by_address[f"ep{i}"]["expected"] == seconds  # exact: read from the file
        assert forecast["complete"] and forecast["media_seconds"]["expected"] == sum(durations)
        applied = run_cli("--state", state, "apply", str(root), "--auto-approve", env=env)
        assert applied.exit_code == 0, applied.output
        billed = json.loads(Path(state).read_text())
    for i, seconds in enumerate(durations):
        record = billed["projects"][f"ep{i}"]["import"]
        assert record["media_seconds_used"] == math.ceil(seconds)  # the forecast's high end
        assert by_address[f"ep{i}"]["high"] == math.ceil(seconds)


def test_a_media_item_that_cannot_be_probed_is_unknown_not_zero(tmp_path: Path) -> None:
    with media_host({}) as host, serving() as (running, _api):
        root = _workspace(tmp_path / "ws", _project("ep", [], f"{host.url}/forbidden/a.wav"))
        env = {**cli_env(running), "XDG_CACHE_HOME": str(tmp_path / "cache")}
        planned = run_cli("--state", str(tmp_path / "s.json"), "plan", str(root), env=env)
    assert planned.exit_code == 0, planned.output  # a forecast never fails a plan
    assert "at least 0 media seconds (1 unknown)" in planned.output
    assert "host.wav (the media host answered 403)" in planned.output


def test_an_apply_whose_forecast_passes_the_budget_sends_nothing(tmp_path: Path) -> None:
    with serving() as (running, _api):
        root = _workspace(tmp_path / "ws", _project("ep", [("a", CHEAP), ("b", CHEAP)]))
        env = cli_env(running)
        state = str(tmp_path / "state.json")
        refused = run_cli(
            "--state", state, "apply", str(root), "--auto-approve", "--max-credits", "20", env=env
        )
        assert refused.exit_code == 1
        assert "the forecast passes the budget; nothing was sent" in refused.output
        assert "up to 128 AI credits forecast, over the budget of 20" in refused.output
        assert emulator_jobs(running) == []
        # the same limit from the workspace's budget: block
        (root / "budget.yaml").write_text("version: 1\nbudget: {ai_credits: 20}\n")
        again = run_cli("--state", state, "apply", str(root), "--auto-approve", env=env)
        assert again.exit_code == 1 and "over the budget of 20" in again.output
        assert emulator_jobs(running) == []


def test_a_real_spend_over_the_forecast_stops_at_the_budget_and_the_rest_runs_next_time(
    tmp_path: Path,
) -> None:
    with serving() as (running, _api):
        env = cli_env(running)
        state = str(tmp_path / "state.json")
        cheap = [(f"c{i}", CHEAP) for i in range(3)]
        root = _workspace(tmp_path / "ws", _project("ep", cheap))
        first = run_cli("--state", state, "apply", str(root), "--auto-approve", env=env)
        assert first.exit_code == 0, first.output  # history: three steps of 8 credits
        dear = [(f"d{i}", DEAR) for i in range(3)]
        _workspace(tmp_path / "ws", _project("ep", cheap + dear))
        planned = run_cli("--state", state, "plan", str(root), env=env)
        assert "step d0: 8 AI credits  [median and 90th percentile of 3 recorded" in planned.output
        stopped = run_cli(
            "--state", state, "apply", str(root), "--auto-approve", "--max-credits", "50", env=env
        )
        assert stopped.exit_code == 1, stopped.output
        assert "Stopped early: the budget would be passed" in stopped.output
        assert len(_agent_jobs(running)) == 4  # the forecast fit (24); d0 cost 88, then stop
        finished = run_cli(
            "--state",
            state,
            "apply",
            str(root),
            "--auto-approve",
            "--max-credits",
            "1000",
            env=env,
        )
        assert finished.exit_code == 0, finished.output
        prompts = [j["prompt"] for j in _agent_jobs(running)]
        spent = run_cli("--state", state, "costs", str(root), "--format", "json", env=env)
        table = run_cli("--state", state, "costs", str(root), env=env)
    assert len(prompts) == 6  # every step once: none lost, none run twice
    assert prompts.count(DEAR) == 3 and prompts.count(CHEAP) == 3
    report = json.loads(spent.output)
    assert report["total"]["ai_credits"] == 3 * 8 + 3 * 88 and report["total"]["jobs"] == 6
    assert report["models"]["default"]["jobs"] == 6
    assert "Spent: 0 media seconds and 288 AI credits in 6 job(s)." in table.output


def _with_budget(project: str, credits: float) -> str:
    """`project` (from `_project`) with a budget of its own."""
    head, _, rest = project.partition("\n")
    return f"{head}\n    budget: {{ai_credits: {credits:g}}}\n{rest}"


def _prompts_by_project(running: Any) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for job in _agent_jobs(running):
        found.setdefault(job["project"]["name"], []).append(job["prompt"])
    return found


def test_a_project_over_its_own_budget_refuses_the_apply_and_sends_nothing(
    tmp_path: Path,
) -> None:
    with serving() as (running, _api):
        body = _with_budget(_project("ep", [("a", CHEAP), ("b", CHEAP)]), 20)
        root = _workspace(tmp_path / "ws", body + _project("other", [("a", CHEAP)]))
        state = str(tmp_path / "state.json")
        planned = run_cli("--state", state, "plan", str(root), "--format", "json")
        refused = run_cli(
            "--state", state, "apply", str(root), "--auto-approve", env=cli_env(running)
        )
        assert refused.exit_code == 1, refused.output
        assert "the forecast passes the budget; nothing was sent" in refused.output
        assert "ep: up to 128 AI credits forecast, over its budget of 20" in refused.output
        assert emulator_jobs(running) == []  # not even the project without a budget
    budget = json.loads(planned.output)["forecast"]["budget"]
    assert budget["projects"] == {"ep": {"ai_credits": 20, "media_seconds": None}}
    assert budget["over"] == ["ep: up to 128 AI credits forecast, over its budget of 20"]


def test_a_project_whose_budget_runs_out_mid_apply_stops_alone_and_finishes_next_time(
    tmp_path: Path,
) -> None:
    with serving() as (running, _api):
        env = cli_env(running)
        state = str(tmp_path / "state.json")
        cheap = [(f"c{i}", CHEAP) for i in range(3)]
        dear = [(f"d{i}", DEAR) for i in range(3)]
        first = run_cli(
            "--state",
            state,
            "apply",
            str(_workspace(tmp_path / "ws", _project("ep", cheap) + _project("other", cheap))),
            "--auto-approve",
            env=env,
        )
        assert first.exit_code == 0, first.output  # history: six steps of 8 credits

        def apply(ep_budget: float) -> Any:
            body = _with_budget(_project("ep", cheap + dear), ep_budget)
            root = _workspace(tmp_path / "ws", body + _project("other", cheap + dear))
            return run_cli("--state", state, "apply", str(root), "--auto-approve", env=env)

        stopped = apply(50)  # the forecast fits (3 x 8); d0 costs 88, then ep stops
        assert stopped.exit_code == 1, stopped.output
        assert "Left for the next apply (the project's budget would be passed" in stopped.output
        assert "ep: its AI credit budget (50): 88 spent, up to 0 in flight" in stopped.output
        assert "Stopped early" not in stopped.output  # the other project went on
        after_stop = _prompts_by_project(running)
        assert after_stop["ep"].count(DEAR) == 1
        assert after_stop["other"].count(DEAR) == 3
        finished = apply(1000)
        assert finished.exit_code == 0, finished.output
        prompts = _prompts_by_project(running)
    for name in ("ep", "other"):  # every step once: none lost, none run twice
        assert prompts[name].count(CHEAP) == 3 and prompts[name].count(DEAR) == 3


def test_hostile_media_hosts_make_a_plan_say_unknown_within_seconds_and_see_no_credentials(
    tmp_path: Path,
) -> None:
    """Through `plan`, with the real bounds (10 s a probe): a host that drips for ever, a 10 GB
    file, a redirect to another host, a 403. Each is unknown with its reason; the other host
    gets nothing; the API token reaches no media host; nothing is written but the cache."""
    import time

    token = "tok-never-to-a-media-host-0123456789"
    with media_host({"ok.wav": files.wav(2.5)}) as host, media_host(FILES_ELSEWHERE) as other:
        host.redirect_to = f"{other.url}/files/a.wav?X-Amz-Signature=s3cret"
        hostile = {
            "forbidden": "/forbidden/a.wav",
            "forever": "/forever/a.wav",
            "huge": "/huge/a.wav",
            "redirect": "/redirect-other/a.wav",
            "fine": "/files/ok.wav",
        }
        body = "".join(
            _project(name, [], f"{host.url}{path}?X-Amz-Signature=s3cret")
            for name, path in hostile.items()
        )
        root = _workspace(tmp_path / "ws", body)
        before = {p for p in tmp_path.rglob("*")}
        env = {"DESCRIPT_API_TOKEN": token, "XDG_CACHE_HOME": str(tmp_path / "cache")}
        started = time.monotonic()
        planned = run_cli(
            "--state", str(tmp_path / "s.json"), "plan", str(root), "--format", "json", env=env
        )
        took = time.monotonic() - started
        host.stop_streams.set()  # the dripping host's thread ends with the test
        seen = host.headers + other.headers
        elsewhere = sum(other.requests.values())
    assert planned.exit_code == 0, planned.output  # a forecast never fails a plan
    assert took < 20  # one probe's bound is 10 s, and they run at once
    forecast = json.loads(planned.output)["forecast"]
    unknown = {a["address"]: " ".join(a["unknown"]) for a in forecast["actions"]}
    assert "the media host answered 403" in unknown["forbidden"]
    assert "no answer within 10 s" in unknown["forever"]
    assert "not a media file it can read" in unknown["huge"]
    assert "redirected to another host" in unknown["redirect"]
    assert unknown["fine"] == "" and forecast["unknown_media"] == 4
    assert elsewhere == 0  # the signed URL was not followed to another host
    assert seen and not any(token in h or "authorization" in h.lower() for h in seen)
    written = {p for p in tmp_path.rglob("*")} - before
    assert written and all(p.is_relative_to(tmp_path / "cache") for p in written), written


FILES_ELSEWHERE = {"a.wav": files.wav(1.0)}
