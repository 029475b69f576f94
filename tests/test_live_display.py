"""The live block against rich's refresh thread: rows come and go while permanent lines are
printed and the block is redrawn hundreds of times a second; the bytes, played on a virtual
terminal (pyte), leave every permanent line once and no row of the block.

rich moves the cursor back over the block as tall as it last drew it; a redraw of a taller or
shorter block from its refresh thread between that move and a permanent line's print leaves a
stale row behind (or erases a permanent line). Run in-process so that the race is hit often.
"""

from __future__ import annotations

import io
import re

import pytest

from descript_iac.api.models import Job
from descript_iac.cli.live import LiveReporter
from tests.builders import terminal_lines

COLUMNS, ROWS = 80, 40
BAR = re.compile(r"\[[#.]{10}\]")


class Terminal(io.StringIO):
    """What rich takes for a terminal."""

    def isatty(self) -> bool:
        return True


def _job(job_id: str, state: str = "running", percent: float = 40.0) -> Job:
    return Job.model_validate(
        {
            "job_id": job_id,
            "job_type": "agent",
            "job_state": state,
            "project_url": f"https://web.descript.com/{job_id}",
            "progress": {"percent": percent, "label": "Working"},
            "result": {"status": "success"} if state == "stopped" else None,
        }
    )


def test_rows_coming_and_going_leave_no_stale_row(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", str(COLUMNS))
    monkeypatch.setenv("LINES", str(ROWS))
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(LiveReporter, "refresh_per_second", 2000.0)
    out = Terminal()
    reporter = LiveReporter(out, color=False)
    rounds, width = 60, 6  # up to six rows in flight
    reporter.total = rounds
    with reporter:
        for n in range(rounds):
            address = f"p{n}"
            reporter.submitted(address, "create", f"job-{n}")
            reporter.progress(address, "create", _job(f"job-{n}"))
            if n >= width - 1 - n % 3:  # the block grows and shrinks by turns
                for old in [a for a in list(reporter.rows) if a != address][: 1 + n % 2]:
                    reporter.stopped(old, "create", _job(old, "stopped", 100), True, "ok")
        for left in list(reporter.rows):
            reporter.stopped(left, "create", _job(left, "stopped", 100), True, "ok")
    raw = out.getvalue().replace("\n", "\r\n").encode()  # as a terminal's driver sends it on
    lines = terminal_lines(raw, COLUMNS, ROWS)
    assert [line for line in lines if BAR.search(line) or "jobs done" in line] == []
    for n in range(rounds):
        assert sum(f"] p{n}: create: submitted job job-{n}" in line for line in lines) == 1, n
        assert sum(f"] p{n}: create: done (" in line for line in lines) == 1, n
    assert len(lines) == 2 * rounds
