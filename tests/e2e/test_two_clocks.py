"""Exactly once when the API's `Date` header and its job store's `created_at` come from two
clocks (a load balancer sets the one, the job store stamps the other): the offset is measured
from the jobs the run sent and then saw, never assumed to be zero.

The real CLI against the emulator on a real socket, with its manual clock; `date_offset` puts
the `Date` header that many seconds ahead of the clock that stamps jobs. Replies are lost, so
every window is judged on send times from the `Date` clock against `created_at`s from the other.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Served, cli, ticking
from tests.e2e.test_exactness import APPLY, EPISODE, _env, _jobs_by_project, _workspace

pytestmark = pytest.mark.e2e

BOTH = (
    EPISODE
    + """  coffee:
    name: Coffee script
    steps:
      - {id: write, prompt: Write a script about coffee}
"""
)
EPISODE_JOBS = Counter({"import/project_media": 1, "Remove filler words": 1, "Add captions": 1})


def _seconds(clock: str) -> float:
    """Seconds after midnight of an HH:MM:SS."""
    h, m, s = (int(part) for part in clock.split(":"))
    return float(h * 3600 + m * 60 + s)


def _committed(served: Served) -> int:
    stats = httpx.get(f"{served.root}/_emulator/stats").json()
    return sum(v for k, v in stats.items() if k.startswith("committed:"))


@pytest.mark.parametrize("offset", [3.0, 600.0, -600.0])
@pytest.mark.parametrize("level", ["seed", "2026"])
def test_a_date_clock_off_the_job_clock_never_makes_a_job_twice(
    served_manual: Served, tmp_path: Path, level: str, offset: float
) -> None:
    """`Date` 3 s or 10 minutes off the job clock, the import's and a step's replies lost (and,
    with the projects API, a prompt-only create's): every lost job is found in the history and
    adopted, none is sent again, and no other project's job is taken (the old windows started
    at `sent - 0.75 s` on the `Date` clock and re-sent every one)."""
    text = BOTH if level == "2026" else EPISODE  # a prompt-only create in doubt needs names
    _workspace(tmp_path, text)
    lost = {"import/project_media": ["lose"], "agent": ["ok", "lose", "lose"]}
    served_manual.faults(api_level=level, date_offset=offset, next_posts=lost)
    with ticking(served_manual, step=2.0):
        done = cli(*APPLY, env=_env(served_manual), cwd=tmp_path, timeout=180)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    jobs = _jobs_by_project(served_manual)
    expected = {"Episode 42": EPISODE_JOBS}
    if level == "2026":
        expected["Coffee script"] = Counter({"Write a script about coffee": 1})
    assert jobs == expected, output  # no duplicate, no project twice, nothing cross-adopted
    assert "sending it again" not in output
    # The offset widens the search, never the wait: each lost reply (the first before any
    # offset was measured) waits --commit-span 30 + --history-lag 120, not 10 minutes more.
    waits = re.findall(
        r"\[(\d\d:\d\d:\d\d)\] [^\n]*waiting for evidence until (\d\d:\d\d:\d\d)", output
    )
    assert waits, output
    assert all((_seconds(until) - _seconds(said)) % 86400 <= 30 + 120 + 30 for said, until in waits)
    # Every POST sent is counted, answered or not: the emulator committed each one.
    issued = re.search(r"Apply complete: (\d+) job\(s\) issued", output)
    assert issued is not None, output
    assert (
        int(issued.group(1)) == _committed(served_manual) == sum(c.total() for c in jobs.values())
    )
    # `doctor` shows what the run measured: a bound that holds the true offset.
    doctor = cli("doctor", env=_env(served_manual), cwd=tmp_path)
    shown = re.search(
        r"OK   Server clocks: last 1 apply run\(s\): .* job clock within ([\d.]+)s", doctor.stdout
    )
    assert shown is not None and float(shown.group(1)) >= abs(offset) - 0.05, doctor.stdout


def test_the_summary_counts_every_post_sent(served_manual: Served, tmp_path: Path) -> None:
    """A step's POST is throttled (429: nothing made), then answered 503 before anything was
    made: the outcome is unknown, the history shows no such job, and it is sent again. Both
    POSTs the server may have acted on count in "job(s) issued", the 429 does not (the old
    summary counted only the POSTs that got a job id, so 4 sent read "3 issued")."""
    _workspace(tmp_path, EPISODE)
    served_manual.faults(next_posts={"agent": ["429:1", "503-before"]})
    with ticking(served_manual, step=2.0):
        done = cli(*APPLY, env=_env(served_manual), cwd=tmp_path, timeout=180)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert _jobs_by_project(served_manual) == {"Episode 42": EPISODE_JOBS}
    stats = httpx.get(f"{served_manual.root}/_emulator/stats").json()
    assert stats["script:429:1"] == 1 and stats["script:503-before"] == 1, stats
    assert _committed(served_manual) == 3
    assert "Apply complete: 4 job(s) issued" in output, output


def test_a_history_lagging_past_its_allowance_is_measured_and_never_re_sent(
    served_manual: Served, tmp_path: Path
) -> None:
    """The history lists a job 360 s after it is made, three times --history-lag 120, and a
    step's reply is lost. The step before it (answered, so known to exist) is missing from the
    listing for minutes: that is the lag measured, named in a message, and the lost step is
    judged on it, found when it is listed, never sent again (it was re-sent as "never
    created" once the 120 s allowance had passed)."""
    _workspace(tmp_path, EPISODE)
    served_manual.faults(history_lag=360, next_posts={"agent": ["ok", "lose"]})
    with ticking(served_manual, step=2.0):
        done = cli(*APPLY, env=_env(served_manual), cwd=tmp_path, timeout=180)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert _jobs_by_project(served_manual) == {"Episode 42": EPISODE_JOBS}, output
    assert "sending it again" not in output
    lag = re.search(r"the job history lags: .* still not listed (\d+)s after its POST", output)
    assert lag is not None and int(lag.group(1)) >= 120, output
    doctor = cli("doctor", env=_env(served_manual), cwd=tmp_path)
    assert doctor.returncode == 1, doctor.stdout
    assert re.search(
        r"FIX  Server clocks: last 1 apply run\(s\): .* job history lag seen up to "
        r"(1[2-9]\d|[2-9]\d\d)s \(--history-lag 120s\); the history lagged past its allowance",
        doctor.stdout,
    ), doctor.stdout


@pytest.mark.parametrize("offset", [600.0, -600.0])
def test_the_next_run_looks_for_a_job_left_in_doubt_as_widely(
    served_manual: Served, tmp_path: Path, offset: float
) -> None:
    """The run is killed once the import's reply is read, before it is recorded; the next run,
    an hour later, finds the job although `Date` is 10 minutes off the job clock: its history
    listing and window allow for the offset (not measured yet in that run: the bound)."""
    _workspace(tmp_path, EPISODE)
    served_manual.faults(date_offset=offset)
    env = _env(served_manual)
    killed = cli(*APPLY, env={**env, "DESCRIPT_IAC_FAILPOINT": "after_post:1"}, cwd=tmp_path)
    assert killed.returncode == -9, killed.stdout + killed.stderr
    httpx.post(f"{served_manual.root}/_emulator/clock/advance", json={"seconds": 3600})
    with ticking(served_manual, step=2.0):
        done = cli(*APPLY, env=env, cwd=tmp_path, timeout=180)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert _jobs_by_project(served_manual) == {"Episode 42": EPISODE_JOBS}, output
    assert "never created" not in output


def test_an_offset_past_the_bound_stops_the_run_with_a_message(
    served_manual: Served, tmp_path: Path
) -> None:
    """`Date` 700 s ahead of the job clock, past the 10 minutes any window allows for: the
    first job read back shows it, and nothing more is sent (no traceback, no guessing)."""
    _workspace(tmp_path, EPISODE)
    served_manual.faults(date_offset=700)
    with ticking(served_manual, step=2.0):
        done = cli(*APPLY, env=_env(served_manual), cwd=tmp_path, timeout=180)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Traceback" not in output
    assert re.search(
        r"Error: job [\w-]+ was stamped created_at -\d+\.\ds to -\d+\.\ds from the API's Date "
        r"header at the time of its POST; an offset over 600s between the API's two clocks",
        output,
    ), output
    assert _committed(served_manual) == 1  # the import; no step was sent after it
