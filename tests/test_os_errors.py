"""The user's machine refusing a file operation is an error message saying what and where, not
"unexpected ... This is a bug": a full disk, a read-only file system, a missing directory, a
closed pipe."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from descript_iac.errors import describe_os_error
from descript_iac.state.document import ProjectState, StateDocument
from tests.builders import fill_disk, run_cli, tmpfs, write_workspace

WORKSPACE = {
    "main.yaml": """
    version: 1
    projects:
      ep:
        media:
          a.wav: {url: "https://cdn.example.com/a.wav"}
        steps:
          - {id: clean, prompt: Remove filler words}
    """
}


def _no_bug(output: str) -> None:
    assert "This is a bug" not in output and "Traceback" not in output, output
    assert "unexpected" not in output, output


def test_plan_out_into_a_missing_directory_names_it(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws", WORKSPACE)
    result = run_cli("plan", str(root), "--out", "nowhere/release.plan")
    assert result.exit_code == 1
    _no_bug(result.output)
    assert (
        "cannot write the plan: nowhere/release.plan: the directory nowhere does not exist; "
        "create it or give another path" in result.output
    )


def test_plan_out_on_a_full_disk_leaves_no_partial_plan(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws", WORKSPACE)
    with tmpfs(tmp_path / "disk", size_kb=16) as disk:
        fill_disk(disk, leave_bytes=200)
        before = sorted(p.name for p in disk.iterdir())
        result = run_cli("plan", str(root), "--out", str(disk / "release.plan"))
        assert result.exit_code == 1
        _no_bug(result.output)
        assert f"cannot write the plan: {disk / 'release.plan'}: the disk is full" in result.output
        assert sorted(p.name for p in disk.iterdir()) == before  # no partial file, no temp


def test_plan_out_on_a_full_disk_without_a_tmpfs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same guarantee where the tests cannot mount a file system: the write fails."""
    from descript_iac.state import atomic

    def full(path: Path, data: bytes) -> None:
        path.write_bytes(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic, "_write_synced", full)
    root = write_workspace(tmp_path / "ws", WORKSPACE)
    out = tmp_path / "plans"
    out.mkdir()
    result = run_cli("plan", str(root), "--out", str(out / "release.plan"))
    assert result.exit_code == 1
    _no_bug(result.output)
    assert "the disk is full; free some space and run again" in result.output
    assert list(out.iterdir()) == []


def test_read_only_file_system_is_named(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws", WORKSPACE)
    with tmpfs(tmp_path / "ro", read_only=True) as ro:
        plan = run_cli("plan", str(root), "--out", str(ro / "release.plan"))
        apply = run_cli(
            "--state", str(ro / "state" / "ws.json"), "apply", str(root), "--emulator",
            "--auto-approve",
        )  # fmt: skip
        # An OSError no writer names is still the machine's refusal, said in one place.
        token = run_cli(
            "config", "set", "api-key", input="tok-123456\n",
            env={"XDG_CONFIG_HOME": str(ro / "config")},
        )  # fmt: skip
    assert token.exit_code == 1 and f"Error: {ro / 'config'}" in token.output
    for result in (plan, apply, token):
        assert result.exit_code == 1
        _no_bug(result.output)
        assert "the file system is read-only" in result.output
    assert f"{ro / 'release.plan'}" in plan.output
    assert f"{ro / 'state'}" in apply.output


def test_every_errno_gets_words_and_a_place() -> None:
    for number in (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EDQUOT, errno.EIO):
        text = describe_os_error(OSError(number, os.strerror(number)), "state/ws.json")
        assert text.startswith("state/ws.json: ") and ";" in text
    odd = describe_os_error(OSError(errno.EXDEV, "Invalid cross-device link"), "x")
    assert odd == "x: Invalid cross-device link; check the path and the disk"


def _big_state(path: Path, projects: int) -> None:
    doc = StateDocument()
    for i in range(projects):
        doc.projects[f"ep-{i:05d}"] = ProjectState(
            project_id=f"00000000-0000-0000-0000-{i:012d}",
            project_url=f"https://web.descript.com/{i}",
        )
    path.write_text(json.dumps(doc.to_json()))


@pytest.mark.parametrize("args", [("state", "show"), ("state", "show", "--json")])
def test_closed_pipe_is_not_a_bug(tmp_path: Path, args: tuple[str, ...]) -> None:
    """`descript-iac state show | head -1`: the reader is gone before the output is written
    (closed at once here, so the test does not depend on the size of a pipe's buffer). Unix
    tools end quietly and successfully then (a `set -o pipefail` script goes on): so does this
    (issue #19)."""
    state = tmp_path / "big.json"
    _big_state(state, 50)
    process = subprocess.Popen(
        [sys.executable, "-m", "descript_iac", "--state", str(state), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader left (Python takes far longer to start than this)
    err = process.stderr.read().decode()
    code = process.wait()
    _no_bug(err)
    assert "Exception ignored" not in err
    assert err.strip() == ""
    assert code == 0
