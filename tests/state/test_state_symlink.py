"""A state file that is a symbolic link is refused, never followed and never replaced.

Writing the state replaces the file (temp file and rename): a link would become a plain file and
its backup would become the link, so the next run would read a copy while the target kept the
old state. And a journal is appended to, so a link committed by a pull request could aim the
run's writes anywhere. The refusal names the link and says what to give instead; nothing is
written, nothing is sent. The decision is documented in docs/state-operations.md.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from descript_iac.errors import StateError
from descript_iac.state.document import StateDocument
from descript_iac.state.store import LocalStateStore
from tests.builders import TOKEN, run_cli, start_emulator, write_workspace

VALID = "version: 1\nprojects:\n  ep:\n    steps: [{id: a, prompt: Hi}]\n"


def _files(root: Path) -> dict[str, str | bytes]:
    return {
        str(p.relative_to(root)): ("-> " + os.readlink(p)) if p.is_symlink() else p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_symlink() or p.is_file()
    }


@pytest.mark.parametrize("verb", [["plan"], ["apply", "--auto-approve"], ["show"]])
def test_a_state_given_by_a_link_is_refused_and_left_as_it_is(
    tmp_path: Path, verb: list[str]
) -> None:
    ws = write_workspace(tmp_path / "ws", {"main.yaml": VALID})
    shared = tmp_path / "shared"
    shared.mkdir()
    link = tmp_path / "ws.json"
    link.symlink_to(shared / "real.json")  # dangling: apply would create the target
    before = _files(tmp_path / "ws"), _files(shared), os.readlink(link)
    running = start_emulator()
    try:
        env = {"DESCRIPT_API_URL": running.base_url, "DESCRIPT_API_TOKEN": TOKEN}
        done = run_cli("--state", str(link), *verb, str(ws), env=env)
        stats = httpx.get(f"{running.root_url}/_emulator/stats").json()
    finally:
        running.stop()
    assert done.exit_code == 1, done.output
    assert f"{link}: the state file is a symbolic link (to {shared / 'real.json'})" in done.output
    assert "Give the file's own path instead" in done.output
    assert "Traceback" not in done.output
    after = _files(tmp_path / "ws"), _files(shared), os.readlink(link)
    assert (
        after == before and not (tmp_path / "ws.json.backup").exists()
    )  # the link is still a link; no target, no backup
    assert not (shared / "real.json").exists()
    assert not any(k.startswith("POST") and v for k, v in stats.items()), stats


def test_a_link_declared_in_the_state_block_is_refused_at_its_place(tmp_path: Path) -> None:
    ws = write_workspace(
        tmp_path / "ws",
        {"main.yaml": "version: 1\nstate: {backend: local, path: s.json}\n" + VALID[11:]},
    )
    (ws / "real.json").write_text(json.dumps({}))
    (ws / "s.json").symlink_to("real.json")
    for verb in (["validate"], ["plan"]):
        done = run_cli(*verb, str(ws), env={"DESCRIPT_API_TOKEN": TOKEN})
        assert done.exit_code == 1, done.output
        assert "main.yaml:2:31: the state path" in done.output
        assert "is a symbolic link; descript-iac does not follow links" in done.output
    assert (ws / "s.json").is_symlink()


def test_a_link_never_becomes_a_plain_file_through_the_store(tmp_path: Path) -> None:
    """The store's own guard, under whatever command writes (state push, pull, rebuild)."""
    target = tmp_path / "real.json"
    link = tmp_path / "s.json"
    link.symlink_to(target)
    store = LocalStateStore(link)
    with pytest.raises(StateError, match="is a symbolic link"):
        store.overwrite(StateDocument())
    with pytest.raises(StateError, match="is a symbolic link"):
        store.read()
    assert link.is_symlink() and not target.exists()
    assert not (tmp_path / "s.json.backup").exists()


def test_a_journal_that_is_a_link_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.txt"
    state = tmp_path / "s.json"
    state.with_name("s.json.journal").symlink_to(elsewhere)
    with pytest.raises(StateError, match="its journal is a symbolic link"):
        LocalStateStore(state).begin(StateDocument())
    assert not elsewhere.exists()


def test_a_state_block_naming_a_file_that_is_not_a_state_says_where_it_was_named(
    tmp_path: Path,
) -> None:
    ws = write_workspace(
        tmp_path / "ws",
        {"main.yaml": "version: 1\nstate: {backend: local, path: hostname}\n" + VALID[11:]},
    )
    (ws / "hostname").write_text("build-host-1\n")
    done = run_cli("plan", str(ws), env={"DESCRIPT_API_TOKEN": TOKEN})
    assert done.exit_code == 1, done.output
    assert "main.yaml:2:31: the state: block names" in done.output
    assert "hostname:1:1: the state is corrupt" in done.output
    assert (ws / "hostname").read_text() == "build-host-1\n"
