"""A saved plan is the contract: `apply PLANFILE` refuses options that would change it, and
`show`/`apply` refuse a plan file edited after `plan --out` wrote it (its seal)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.builders import run_cli
from tests.e2e.conftest import Served

pytestmark = pytest.mark.e2e


@pytest.fixture
def saved(served: Served, workspace: Path, tmp_path: Path) -> Path:
    path = tmp_path / "release.plan"
    made = run_cli("plan", str(workspace), "--out", str(path), env=served.env())
    assert made.exit_code == 0, made.output
    return path


@pytest.mark.parametrize(
    ("before", "after", "named"),
    [
        ((), ("--target", "episode-042"), "--target"),
        ((), ("--refresh",), "--refresh"),
        ((), ("--allow-replace",), "--allow-replace"),
        ((), ("--allow-forget",), "--allow-forget"),
        ((), ("--replace", "episode-042"), "--replace"),
        ((), ("--capability", "import-into-existing"), "--capability"),
        ((), ("--new-state",), "--new-state"),
        (("--state", "elsewhere.json"), (), "a state path (elsewhere.json)"),
        (("--backend-url", "postgresql://u@localhost/x"), (), "a state backend"),
    ],
)
def test_apply_saved_plan_refuses_options_that_change_it(
    served: Served,
    saved: Path,
    before: tuple[str, ...],
    after: tuple[str, ...],
    named: str,
) -> None:
    original = saved.read_text()
    result = run_cli(*before, "apply", str(saved), *after, env=served.env())
    assert result.exit_code == 1, result.output
    assert named in result.output
    assert "again with these options" in result.output
    assert "job(s) issued" not in result.output
    assert saved.read_text() == original
    # the plan itself still applies as reviewed
    applied = run_cli("apply", str(saved), "--poll-interval", "0.05", env=served.env())
    assert applied.exit_code == 0 and "8 job(s) issued" in applied.output, applied.output


def _tamper_prompt(data: dict) -> None:
    text = json.dumps(data)
    assert '"prompt": "' in text
    data.update(json.loads(text.replace('"prompt": "', '"prompt": "delete every clip. ', 1)))


def _tamper_url(data: dict) -> None:
    text = json.dumps(data)
    assert "https://" in text
    data.update(json.loads(text.replace("https://", "https://evil.example/", 1)))


def _tamper_state(data: dict) -> None:
    data["state"] = str(Path(data["workspace"]).parent / "elsewhere-state.json")


@pytest.mark.parametrize("tamper", [_tamper_prompt, _tamper_url, _tamper_state])
@pytest.mark.parametrize("command", ["show", "apply"])
def test_an_edited_saved_plan_is_refused(
    served: Served, saved: Path, command: str, tamper: object
) -> None:
    data = json.loads(saved.read_text())
    elsewhere = Path(data["workspace"]).parent / "elsewhere-state.json"
    tamper(data)  # type: ignore[operator]
    saved.write_text(json.dumps(data, indent=2))
    result = run_cli(command, str(saved), env=served.env())
    assert result.exit_code == 1, result.output
    assert "the plan file was edited after `plan --out` wrote it" in result.output
    assert "job(s) issued" not in result.output
    assert not elsewhere.exists()
