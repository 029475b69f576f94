"""Polls come when a job can first be over: run times are learnt per job type and kept across
runs in the job cache (issue #26), so a small apply's first polls do not wait a whole base
interval. On the emulator's manual clock: each wait of the engine is the API's time passing."""

from __future__ import annotations

import math
from pathlib import Path

import httpx

from descript_iac.api import DescriptClient, Token
from descript_iac.api.ratelimit import RateLimiter
from descript_iac.apply import ApplyOptions, Engine
from descript_iac.apply.reporting import SilentReporter
from descript_iac.apply.schedule import MARGIN, SLACK, PollSchedule
from descript_iac.config import load_workspace
from descript_iac.emulator.clock import parse_iso
from descript_iac.plan import PlanOptions, compute_plan
from descript_iac.state.jobcache import JobCache
from descript_iac.timing import Timing
from tests.apply.test_concurrency import Journal, _text
from tests.builders import TOKEN, ManualTime, emulator_jobs, start_emulator, write_workspace

JOB_SECONDS = 1.0
BASE = 2.0  # the default --poll-interval


def test_a_known_run_time_sets_the_first_poll_instead_of_the_base_interval() -> None:
    fresh = PollSchedule(BASE, 30.0)
    fresh.polled(0.0, 0)
    fresh.sent("agent", 0.0, alone=True)
    assert fresh.due(0.0) == BASE  # nothing known: the base interval
    known = PollSchedule(BASE, 30.0, {"agent": 1.5})
    known.polled(0.0, 0)
    known.sent("agent", 0.0, alone=True)
    assert math.isclose(known.due(0.0), 1.5 * SLACK + MARGIN)


def test_the_job_cache_keeps_run_times_and_refuses_absurd_ones(tmp_path: Path) -> None:
    cache = JobCache(tmp_path, "http://127.0.0.1:1/v1")
    cache.keep_run_times({"import/project_media": 12.5, "agent": 3.0})
    cache.keep_run_times({"agent": 4.0})
    assert JobCache(tmp_path, "http://127.0.0.1:1/v1").run_times() == {
        "import/project_media": 12.5,
        "agent": 4.0,
    }
    assert JobCache(tmp_path, "http://127.0.0.1:2/v1").run_times() == {}  # another API
    cache.keep_run_times({"agent": math.nan, "import/project_media": -1.0})
    assert JobCache(tmp_path, "http://127.0.0.1:1/v1").run_times() == {}


def test_the_second_apply_polls_when_its_jobs_can_first_be_over(tmp_path: Path) -> None:
    """Two applies of one project each (an import, then two agent steps: a chain of 3 jobs of
    1 s) with the job cache: the first learns the run times, the second is within 1.1x of the
    sum of its jobs' durations where the first, polled at the 2 s base, was not."""
    running = start_emulator(manual_clock=True, job_seconds=JOB_SECONDS)
    clock = ManualTime(running, least=0.01)
    wait = clock.wait
    elapsed, durations = [], []
    try:
        for name in ("first", "second"):
            journal = Journal()  # two workspaces, one API and one job cache
            limiter = RateLimiter(sleep=wait, clock=clock.monotonic)
            with DescriptClient(
                running.base_url,
                Token(TOKEN),
                limiter=limiter,
                sleep=wait,
                wall_clock=clock.wall,
                cache=JobCache(tmp_path / "cache", running.base_url),
            ) as client:
                root = write_workspace(tmp_path / name, {"main.yaml": _text([], [name])})
                workspace = load_workspace(root)
                plan = compute_plan(workspace.projects, journal.doc, PlanOptions())
                options = ApplyOptions(
                    poll_interval=BASE, timing=Timing(commit_span=30, history_lag=0)
                )
                engine = Engine(
                    client,
                    journal.doc,
                    workspace,
                    plan,
                    SilentReporter(),
                    journal.record,
                    options,
                    sleep=wait,
                )
                result = engine.run()
                assert not result.failures
                elapsed.append(result.elapsed)
                durations.append(_chain_seconds(running, journal.doc.project(name).project_id))
    finally:
        running.stop()
    # (an import runs a little longer than job_seconds, and not always as long)
    assert elapsed[0] > 1.3 * durations[0]  # polled at the base interval: 2 s for a 1 s job
    assert elapsed[1] <= 1.1 * durations[1], (elapsed, durations)


def _chain_seconds(running: object, project_id: str | None) -> float:
    """The sum of the run times of a project's jobs, from the emulator's timestamps."""
    ids = [j["job_id"] for j in emulator_jobs(running) if j["project"]["project_id"] == project_id]
    assert len(ids) == 3
    auth = {"Authorization": f"Bearer {TOKEN}"}
    jobs = [httpx.get(f"{running.base_url}/jobs/{i}", headers=auth).json() for i in ids]  # type: ignore[attr-defined]
    return sum(parse_iso(j["stopped_at"]) - parse_iso(j["created_at"]) for j in jobs)
