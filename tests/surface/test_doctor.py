"""`doctor`: one line per check, OK or what to do; exit 1 when anything needs fixing."""

from __future__ import annotations

import json
import os
import re
import socket
from pathlib import Path

from descript_iac.state.document import StateDocument
from descript_iac.state.store import LocalStateStore
from tests.builders import ONE_IMPORT, advance_clock, cli_env, run_cli, serving, write_workspace


def lines(output: str) -> dict[str, str]:
    return {line[5:].split(":", 1)[0]: line for line in output.splitlines()}


def test_all_ok_against_a_healthy_api() -> None:
    with serving(api_level="2026") as (running, _api):
        result = run_cli("doctor", env=cli_env(running))
    assert result.exit_code == 0, result.output
    found = lines(result.output)
    assert found["API"].startswith(f"OK   API: {running.base_url} reachable, round trip ")
    assert found["Token"] == "OK   Token: valid"
    assert found["API level"].startswith("OK   API level: 2026 (")
    assert "cancel" in found["API level"] and "publish" in found["API level"]
    assert found["Clock"].startswith("OK   Clock: ") and "the API's clock" in found["Clock"]
    assert found["Published budget"] == (
        "OK   Published budget: 0/1000 requests in the last hour on this machine"
    )
    assert found["Cache"].startswith("OK   Cache: ")
    assert any(k.startswith("State ") and "oneoff.json" in k for k in found)


def test_seed_level_and_a_skewed_clock() -> None:
    with serving(manual_clock=True) as (running, _api):
        advance_clock(running, 3600)  # the API's clock is an hour ahead of this machine's
        result = run_cli("doctor", env=cli_env(running))
    assert result.exit_code == 1
    found = lines(result.output)
    assert found["API level"] == "OK   API level: seed (jobs only)"
    assert re.match(r"FIX  Clock: this machine is 3[56]\d\d\.\ds behind", found["Clock"])
    assert "behind the API's clock" in found["Clock"] and "sync the clock (NTP)" in found["Clock"]


def test_a_refused_token_and_an_unreachable_api() -> None:
    with serving() as (running, _api):
        refused = run_cli("doctor", env=cli_env(running, DESCRIPT_API_TOKEN="wrong-token-000"))
    assert refused.exit_code == 1
    assert "FIX  Token: refused (401): set DESCRIPT_API_TOKEN" in refused.output
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    gone = run_cli(
        "doctor",
        env={"DESCRIPT_API_URL": f"http://127.0.0.1:{port}/v1", "DESCRIPT_API_TOKEN": "t-123456"},
    )
    assert gone.exit_code == 1
    assert "FIX  API: " in gone.output and "cannot reach" in gone.output


def test_state_in_doubt_and_a_lock_left_by_a_dead_process(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "show", {"main.yaml": "version: 1\n"})
    store = LocalStateStore(Path("state") / "show.json")
    doc = StateDocument()
    store.begin(doc)  # a run that died: its journal is left behind
    lock = Path("state") / "show.json.lock"
    lock.write_text(
        json.dumps(
            {
                "lock_id": "lock-1",
                "host": socket.gethostname(),
                "pid": 2**22 + 17,  # no such process
                "user": "ci",
                "command": "apply",
                "created_at": "2026-01-01T00:00:00Z",
            }
        )
    )
    with serving() as (running, _api):
        result = run_cli("doctor", "--workspace", str(root), env=cli_env(running))
    assert result.exit_code == 1
    assert (
        "OK   State state/show.json: serial 0, 0 project(s); a run left a journal" in result.output
    )
    assert "FIX  Lock show.json: held by ci@" in result.output
    assert f"its process is gone: `descript-iac force-unlock lock-1 --workspace {root}`" in (
        result.output
    )


def test_a_state_or_cache_readable_by_others_is_reported(tmp_path: Path) -> None:
    """Issue #27: files written 0644 by an older release or by hand (prompts, agent replies,
    project URLs) are named, with the command that makes them private again."""
    root = write_workspace(tmp_path / "ws", {"main.yaml": ONE_IMPORT})
    state = tmp_path / "s.json"
    with serving() as (running, _api):
        env = cli_env(running)
        applied = run_cli("--state", str(state), "apply", str(root), "--auto-approve", env=env)
        assert applied.exit_code == 0, applied.output
        clean = run_cli("--state", str(state), "doctor", "--workspace", str(root), env=env)
        state.chmod(0o644)
        cache = Path.home() / ".cache" / "descript-iac"
        cached = next(p for p in cache.rglob("*") if p.is_file())
        cached.chmod(0o644)
        loose = run_cli("--state", str(state), "doctor", "--workspace", str(root), env=env)
    assert lines(clean.output)["Private files"] == (
        "OK   Private files: the state and the cache are readable by you only"
    ), clean.output
    assert loose.exit_code == 1
    found = lines(loose.output)["Private files"]
    assert found.startswith("FIX  Private files: readable by others: ")
    assert str(state) in found and str(cached) in found
    assert f"chmod -R go-rwx {cache}" in found and f"chmod go-rwx {state}" in found


def test_a_damaged_cache_set_aside_is_named_for_deletion(tmp_path: Path) -> None:
    """The workspace cache moves a damaged database aside and makes a new one (the plan goes
    on); doctor says where the damaged one is, to be deleted."""
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "descript-iac" / "workspaces"
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "cache.db").write_bytes(b"\x00" * 4096)
    root = write_workspace(tmp_path / "ws", {"a.yaml": ONE_IMPORT})
    assert run_cli("plan", str(root)).exit_code == 0
    with serving() as (running, _api):
        result = run_cli("doctor", env=cli_env(running))
    assert result.exit_code == 1
    found = lines(result.output)["Cache"]
    assert found.startswith("FIX  Cache: ") and "a damaged cache was set aside: delete " in found
    assert f"{cache}.corrupt-" in found
