"""The terminal display, as a user sees it: a real `descript-iac apply` of several projects in a
pseudo-terminal of 60 and of 200 columns, its bytes played on a virtual terminal (pyte).

After the run, the screen and its scrollback hold every permanent line once (each job's
submission and its end, the summary), no row of the live block and no summary of it; every
project's final state is there; nothing the display wrote is wider than the terminal. Without a
terminal, the same run prints plain timestamped lines and no control sequence.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.builders import (
    cli_env,
    run_in_terminal,
    start_emulator,
    terminal_lines,
    write_workspace,
)

pytestmark = pytest.mark.e2e

ROWS = 30
LONG = "ep-2-with-a-long-address-for-narrow-terminals"  # its row cannot fit in 60 columns
ADDRESSES = ("ep-1", LONG, "ep-3", "ep-4", "ep-5")
LABELS = ("create", "step cleanup")
STAMP = re.compile(r"^\[\d\d:\d\d:\d\d\] ")
BAR = re.compile(r"\[[#.]{10}\]")
CONTROL = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|\x1b[=>78]")


@pytest.fixture(scope="module")
def api() -> Iterator[Any]:
    # Jobs of a second each, polled every tenth: the block is redrawn many times per job.
    running = start_emulator(job_seconds=1.0)
    yield running
    running.stop()


def _workspace(root: Path) -> Path:
    projects = "".join(
        f"""
  {address}:
    media:
      host.wav: {{url: "https://cdn.example.com/{address}/host.wav"}}
    steps:
      - {{id: cleanup, prompt: "Remove filler words and add Studio Sound to every clip"}}
"""
        for address in ADDRESSES
    )
    return write_workspace(root / "ws", {"descript.yaml": "version: 1\nprojects:" + projects})


def _flat(lines: list[str], columns: int = 0) -> str:
    """The lines as one text, line breaks and runs of blanks as one space: a permanent line
    wrapped by the terminal (a row filled to the last column goes on in the next) reads whole
    again."""
    text, last = "", ""
    for line in lines:
        text += line if columns and len(last) == columns else "\n" + line
        last = line
    return re.sub(r"\s+", " ", text)


def _display_part(lines: list[str]) -> list[str]:
    """From the `Applying:` line to the apply's summary (the plan above it is not the
    display's: click prints it, and the terminal wraps it)."""
    start = next(i for i, line in enumerate(lines) if "] Applying: 10 job(s)" in line)
    end = next(i for i, line in enumerate(lines) if line.startswith("Apply complete"))
    return lines[start : end - 1]  # the summary begins with a blank line


def _segments(raw: bytes) -> list[str]:
    """Each run of text the display wrote between line starts, control sequences removed."""
    text = CONTROL.sub(b"", raw).decode()
    return re.split(r"\r\n|\r|\n", text)


URL = re.compile(
    r"https://web\.descript\.com/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)


@pytest.mark.parametrize("columns", [40, 60, 200])
def test_live_display_leaves_each_line_once_and_no_row(
    api: Any, tmp_path: Path, columns: int
) -> None:
    ws = _workspace(tmp_path)
    # (--new-state: the module's emulator holds look-alike projects of the tests before)
    args = ["apply", str(ws), "--auto-approve", "--poll-interval", "0.1", "--new-state"]
    code, raw = run_in_terminal(args, cli_env(api), tmp_path, columns, ROWS)
    lines = terminal_lines(raw, columns, ROWS)
    assert code == 0, "\n".join(lines)

    # No stale line: nothing of the block is left on the screen or in the scrollback.
    shown = _display_part(lines)
    leftovers = [
        line for line in lines if BAR.search(line) or "jobs done, " in line or "queued" in line
    ]
    assert leftovers == []
    # Between the permanent lines, only their own continuations (wrapped by the terminal at the
    # width), never a row of the block.
    assert [line for line in shown if line.startswith("  ") and BAR.search(line)] == []
    flat = _flat(lines, columns)
    for address in ADDRESSES:
        for label in LABELS:
            assert flat.count(f"] {address}: {label}: submitted job ") == 1, (address, label)
            assert len(re.findall(rf"] {re.escape(address)}: {label}: done \(\d+/10\)", flat)) == 1
    assert flat.count("] Applying: 10 job(s) across 5 project(s).") == 1
    assert flat.count("Apply complete: 10 job(s) issued, 5 project(s) created") == 1
    # Every project's final state, with its Descript URL.
    for address in ADDRESSES:
        step_done = re.search(
            rf"] {re.escape(address)}: step cleanup: done \(\d+/10\) success: .*?"
            r"https://web\.descript\.com/\S+",
            flat,
        )
        assert step_done, address
    assert sum(1 for line in lines if STAMP.match(line)) >= 21

    # No row of the block is wider than the terminal (the terminal would have wrapped it, and
    # the display would have lost count of its lines). Permanent lines are written whole and
    # wrapped by the terminal (soft wrap), so that a URL in them is never broken.
    display = raw[raw.index(b"] Applying: ") :]
    wide = [s for s in _segments(display) if len(s) > columns and BAR.search(s)]
    assert wide == []
    # Every Descript URL the display wrote is whole: no line break or control sequence inside
    # it, however narrow the terminal; and where it fits, it is on one row of the screen.
    written_text = CONTROL.sub(b"", display).decode()
    urls = URL.findall(written_text)
    assert len(set(urls)) == len(ADDRESSES)
    broken = re.findall(r"https://web\.descript\.com/[0-9a-f-]{0,35}(?:\r|\n)", written_text)
    assert broken == []
    if columns >= 80:
        on_rows = {u for line in lines for u in URL.findall(line)}
        assert on_rows == set(urls)

    # The live block was drawn (rows with a bar, the summary line), and moved over.
    written = CONTROL.sub(b"", raw).decode()
    assert BAR.search(written) and "jobs done, " in written and b"\x1b[1A" in raw
    if columns == 200:  # room for the project's Descript URL on its row
        assert re.search(r"\] +\d+% [^\r\n]*  https://web\.descript\.com/", written)
    else:  # the long address is cut to the width on its row, with an ellipsis
        assert re.search(r"  ep-2-w[a-z-]*\u2026  \[", written)
        # and a row never shows a cut URL: whole or not at all
        assert not re.search(r"https://web\.descript\.com/[0-9a-f-]*\u2026", written)


def test_without_a_terminal_the_output_is_plain_lines(api: Any, tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    # (--new-state: the module's emulator holds look-alike projects of the tests before)
    args = ["apply", str(ws), "--auto-approve", "--poll-interval", "0.1", "--new-state"]
    done = subprocess.run(
        [sys.executable, "-m", "descript_iac", *args],
        env={**_env(), **cli_env(api)}, cwd=tmp_path, capture_output=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert b"\x1b" not in done.stdout and b"\r" not in done.stdout and done.stderr == b""
    lines = done.stdout.decode().splitlines()
    shown = _display_part(lines)
    assert [line for line in shown if not STAMP.match(line)] == []  # a timestamped line each
    assert len(shown) == 1 + 2 * 10  # Applying, then each job's submission and end
    for address in ADDRESSES:
        for label in LABELS:
            assert sum(f"] {address}: {label}: submitted job " in s for s in shown) == 1
            ends = [s for s in shown if f"] {address}: {label}: done (" in s]
            assert len(ends) == 1 and re.search(r"  https://web\.descript\.com/\S+$", ends[0])

    # The same lines as the permanent lines of the live display on a wide terminal (times,
    # job ids, project ids and the order jobs end in aside).
    again = tmp_path / "again"  # its own workspace and state
    args[1] = str(_workspace(again))
    code, raw = run_in_terminal(args, cli_env(api), again, 200, ROWS)
    on_terminal = _unwrapped(_display_part(terminal_lines(raw, 200, ROWS)), 200)
    assert code == 0 and sorted(map(_generic, on_terminal)) == sorted(map(_generic, shown))


def _unwrapped(lines: list[str], columns: int) -> list[str]:
    """Lines wrapped by the terminal joined again (each permanent line has a stamp; a row that
    wrapped is filled to the last column)."""
    joined: list[str] = []
    last = ""
    for line in lines:
        if STAMP.match(line) or not joined:
            joined.append(line)
        else:
            joined[-1] += ("" if len(last) == columns else " ") + line
        last = line
    return joined


def _generic(line: str) -> str:
    """A line without what differs from run to run (and its runs of blanks as one)."""
    line = re.sub(r"\s+", " ", STAMP.sub("", line))
    line = re.sub(r"\(\d+/10\)", "(n/10)", line)
    return re.sub(r"(job |https://web\.descript\.com/)\S+", r"\1ID", line)


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}


COLOUR = re.compile(rb"\x1b\[(?:[0-9;]*;)?(?:3[0-7]|9[0-7]|38;[25]|4[0-7]|10[0-7])[0-9;]*m")


@pytest.mark.parametrize("flag", [None, "--color"])
def test_no_color_is_honoured_and_the_flag_wins(api: Any, tmp_path: Path, flag: str | None) -> None:
    ws = _workspace(tmp_path)
    args = ["apply", str(ws), "--auto-approve", "--poll-interval", "0.1", "--new-state"]
    args += [flag] if flag else []
    code, raw = run_in_terminal(args, cli_env(api, NO_COLOR="1"), tmp_path, 120, ROWS)
    assert code == 0, raw.decode()
    plan, display = raw.split(b"] Applying: ", 1)
    assert BAR.search(CONTROL.sub(b"", display).decode())  # the live display ran
    if flag is None:  # neither the plan nor the live display has colour
        assert COLOUR.findall(plan) == [] and COLOUR.findall(display) == []
    else:
        assert COLOUR.search(plan) and COLOUR.search(display)


def test_jobs_wait_shows_a_live_row_then_only_the_outcome(tmp_path: Path) -> None:
    import httpx

    from tests.builders import TOKEN, advance_clock

    # The job runs until the test moves the emulator's clock: once its row was drawn.
    running = start_emulator(job_seconds=10.0, manual_clock=True)
    body = {"project_name": "x", "add_media": {"a.wav": {"url": "https://cdn.example.com/a.wav"}}}
    reply = httpx.post(
        f"{running.base_url}/jobs/import/project_media",
        json=body,
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    job_id = reply.json()["job_id"]
    row = re.compile(rf"  {job_id[:8]}\S*  \[[#.]{{10}}\] +\d+% (queued|running)")
    moved: list[float] = []

    def end_the_job_once_shown(written: bytes) -> None:
        if not moved and row.search(CONTROL.sub(b"", written).decode()):
            moved.append(advance_clock(running, 60))

    args = ["jobs", "wait", job_id, "--interval", "0.1"]
    try:
        code, raw = run_in_terminal(
            args, cli_env(running), tmp_path, 60, ROWS, 30, on_output=end_the_job_once_shown
        )
    finally:
        running.stop()
    lines = terminal_lines(raw, 60, ROWS)
    assert code == 0, lines
    assert moved  # its row was drawn while it ran
    assert lines == [f"{job_id}: stopped, success"]
