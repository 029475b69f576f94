"""`show`: a saved plan exactly as it will apply, or what the state manages (no API call)."""

from __future__ import annotations

import json
from pathlib import Path

from descript_iac.state.document import StateDocument
from descript_iac.state.store import LocalStateStore
from tests.builders import desired_project, record_apply, run_cli, write_workspace

SPEC = {
    "name": "Episode 1",
    "media": {"host.wav": {"url": "https://cdn.example.com/ep/host.wav?sig=abc"}},
    "steps": [{"id": "clean", "prompt": "Remove filler words"}],
}
CONFIG = """
version: 1
projects:
  ep:
    name: Episode 1
    media:
      host.wav: {url: "https://cdn.example.com/ep/host.wav?sig=abc"}
    steps:
      - id: clean
        prompt: Remove filler words
      - id: caps
        prompt: Add captions
"""
NO_API = {"DESCRIPT_API_URL": "http://127.0.0.1:9/v1"}  # any API call would fail


def _applied(tmp_path: Path) -> Path:
    ws = write_workspace(tmp_path / "ws", {"main.yaml": CONFIG})
    doc = record_apply(StateDocument(), desired_project("ep", **SPEC))
    store = LocalStateStore(Path("state/ws.json"))
    with store.lock("test"):
        store.begin(doc)
        store.commit(doc)
    return ws


def test_show_a_saved_plan_as_it_will_apply(tmp_path: Path) -> None:
    ws = _applied(tmp_path)
    planned = run_cli("plan", str(ws), "--out", "release.plan", env=NO_API)
    assert planned.exit_code == 0
    shown = run_cli("show", "release.plan", env=NO_API)
    assert shown.exit_code == 0
    assert shown.output.startswith("Saved plan release.plan: workspace ")
    # (the cost forecast after the plan is the plan command's, not part of the saved plan)
    plan_text = planned.output.split("Saved the plan")[0].split("\nCost forecast:")[0]
    assert plan_text in shown.output  # the same plan, line for line
    assert "prompt: Add captions" in shown.output
    as_json = json.loads(run_cli("show", "release.plan", "--json", env=NO_API).output)
    assert [(a["action"], a["step_id"]) for a in as_json["actions"]] == [("run", "caps")]


def test_show_a_workspace_lists_what_is_managed(tmp_path: Path) -> None:
    ws = _applied(tmp_path)
    text = run_cli("show", str(ws), env=NO_API).output
    assert "ep: Episode 1" in text
    assert "media host.wav: success, 10.0s  https://cdn.example.com/ep/host.wav" in text
    assert "step clean: success (job " in text and "prompt: Remove filler words" in text
    assert "response: Done!" in text and "sig=abc" not in text
    data = json.loads(run_cli("show", str(ws), "--json", env=NO_API).output)
    (project,) = data["projects"]
    assert project["address"] == "ep" and project["steps"][0]["prompt"] == "Remove filler words"
    assert data["ai_credits"] == 10.0
