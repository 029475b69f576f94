"""What a step in doubt reads: its own project's job history (a page of that project's few
jobs, not a listing of every job in its window), and only once its evidence is complete (before,
nothing in the history can decide it). Real HTTP to an emulator on a manual clock."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from descript_iac.api import DescriptClient, Token
from descript_iac.api.ratelimit import RateLimiter
from descript_iac.config import load_workspace
from descript_iac.state.document import StateDocument
from descript_iac.timing import Timing
from tests.apply.test_gate_held import TWO_CREATES
from tests.builders import (
    TOKEN,
    ManualTime,
    run_engine,
    set_faults,
    start_emulator,
    write_workspace,
)

ONE_PROJECT = """
version: 1
projects:
  ep-1:
    name: Episode 1
    media: {host.wav: {url: "https://cdn.example.com/1/host.wav"}}
    steps: [{id: clean, prompt: Remove filler words}, {id: caps, prompt: Add captions}]
"""
SPANS = Timing(commit_span=30.0, history_lag=10.0)


Run = tuple[
    Any, list[dict[str, Any]], list[tuple[float, str, str]], list[tuple[float, dict[str, str]]]
]


def _apply_with_a_step_in_doubt(tmp_path: Path, text: str, first_step: str) -> Run:
    """Apply `text` at the 2026 level on a manual clock seen running, the first agent POST
    answered `first_step`: the result, the emulator's projects, the job POSTs (the API's time,
    path, project) and the job listings read (the API's time, query)."""
    workspace = load_workspace(write_workspace(tmp_path / "ws", {"main.yaml": text}))
    doc = StateDocument()
    running = start_emulator(job_seconds=1.0, manual_clock=True, api_level="2026")
    api = running.backend.clock

    def wait(seconds: float) -> None:
        api.advance(max(seconds, 0.05))

    def local() -> float:  # this machine's clock: the API's time runs at its rate
        return api.now() - 1234.5

    posts: list[tuple[float, str, str]] = []  # (the API's time, path, project) of each job POST
    reads: list[tuple[float, dict[str, str]]] = []  # (the API's time, query) of GET /v1/jobs

    class Recording(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "POST" and "/jobs/" in request.url.path:
                project = json.loads(request.content).get("project_id") or ""
                posts.append((api.now(), request.url.path, project))
            if request.method == "GET" and request.url.path.endswith("/jobs"):
                reads.append((api.now(), dict(request.url.params)))
            return super().handle_request(request)

    try:
        set_faults(running, next_posts_by_type={"agent": [first_step, "ok", "ok"]})
        limiter = RateLimiter(sleep=wait, clock=api.now)
        with DescriptClient(
            running.base_url,
            Token(TOKEN),
            limiter=limiter,
            sleep=wait,
            wall_clock=local,
            monotonic_clock=api.now,
            transport=Recording(),
        ) as client:
            for _ in range(12):  # a few seconds of replies: the clock is seen running
                client.status()
                wait(0.37)
            assert client.clock.sharpened
            result = run_engine(client, doc, workspace, SPANS, wait)
        projects = httpx.get(f"{running.root_url}/_emulator/projects").json()["projects"]
    finally:
        running.stop()
    return result, projects, posts, reads


@pytest.mark.parametrize("first_step", ["lose", "500-before"])
def test_a_step_in_doubt_reads_its_own_projects_history_once_complete(
    tmp_path: Path, first_step: str
) -> None:
    """The first step POST's reply is lost after its job was made (it is found) or answered 500
    before any work (it is sent again): either way exactly one job per step, and the doubt's
    evidence is read from its project's history (`project_id`), after commit span + history lag,
    in one request, on a clock seen running at this machine's rate (on one that is not, every
    tick reads: a reply is the only news of its time). (Its project's are the only jobs whose absence could measure the history's
    lag here: with other projects' jobs old enough for that, one listing of all is read.)"""
    result, projects, posts, reads = _apply_with_a_step_in_doubt(tmp_path, ONE_PROJECT, first_step)
    assert result.ok, result.failures
    # Exactly once: one import and one agent job per project, whatever the first step's POST did.
    kinds = Counter((p["name"], j["job_type"]) for p in projects for j in p["jobs"])
    assert kinds == Counter(
        {("Episode 1", "import/project_media"): 1, ("Episode 1", "agent"): 2}
    ), kinds
    first, in_doubt = next((t, project) for t, path, project in posts if path.endswith("/agent"))
    evidence = [(t, q) for t, q in reads if "project_id" in q]
    assert len(evidence) == 1, reads  # one page of its project's jobs decided it
    at, query = evidence[0]
    assert query["project_id"] == in_doubt
    # Not before its evidence was complete (nothing sooner can decide a step), and soon after.
    assert first + 40.0 <= at <= first + 42.0, (at - first, reads)
    # No listing of every job was read for it (nothing else runs meanwhile: no poll either).
    shared = [t for t, q in reads if "project_id" not in q and first < t < at]
    assert not shared, [(t - first, q) for t, q in reads if "project_id" not in q]
    agent_posts = [t for t, path, _ in posts if path.endswith("/agent")]
    if first_step == "500-before":
        assert len(agent_posts) == 3  # the 5xx'd one, its re-send, the next step
        assert agent_posts[1] >= first + 40.0
    else:
        assert len(agent_posts) == 2  # found: the next step went on


TWO_PROJECTS = (
    ONE_PROJECT
    + """  ep-2:
    name: Episode 2
    media: {host.wav: {url: "https://cdn.example.com/2/host.wav"}}
    steps: [{id: clean, prompt: Remove filler words}]
"""
)


def test_where_another_projects_job_measures_the_lag_one_listing_of_all_is_read(
    tmp_path: Path,
) -> None:
    """A step in doubt while another project's step went out beside it: that job's absence
    from a listing measures the history's lag, which its own project's listing cannot see, so
    the doubt is read from one listing of every job (and exactly once holds)."""
    result, projects, posts, reads = _apply_with_a_step_in_doubt(
        tmp_path, TWO_PROJECTS, "500-before"
    )
    assert result.ok, result.failures
    kinds = Counter((p["name"], j["job_type"]) for p in projects for j in p["jobs"])
    assert kinds == Counter(
        {
            ("Episode 1", "import/project_media"): 1,
            ("Episode 1", "agent"): 2,
            ("Episode 2", "import/project_media"): 1,
            ("Episode 2", "agent"): 1,
        }
    ), kinds
    first = next(t for t, path, _ in posts if path.endswith("/agent"))
    again = [t for t, path, _ in posts if path.endswith("/agent") and t >= first + 40.0]
    assert again, posts  # the 5xx'd step, sent again once its evidence was complete
    decided = [q for t, q in reads if first + 40.0 <= t <= again[0]]
    assert decided and all("project_id" not in q for q in decided), decided


def test_a_create_in_doubt_asks_for_projects_by_name_only_once_its_evidence_is_complete(
    tmp_path: Path,
) -> None:
    """A create answered 500 before any work, at the 2026 level: its history is read at once
    (a job found there would be confirmed by its project's name), but the projects named as its
    own, which only count once nothing more can appear, are asked for then and no sooner; the
    create is sent again once, after commit span + history lag."""
    workspace = load_workspace(write_workspace(tmp_path / "ws", {"main.yaml": TWO_CREATES}))
    doc = StateDocument()
    running = start_emulator(job_seconds=1.0, manual_clock=True, api_level="2026")
    api = running.backend.clock
    clock = ManualTime(running)
    posts: list[float] = []  # the API's time of each import POST
    named: list[float] = []  # ... of each GET /v1/projects?name=

    class Recording(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "POST" and request.url.path.endswith("import/project_media"):
                posts.append(api.now())
            if request.url.path.endswith("/projects") and "name" in request.url.params:
                named.append(api.now())
            return super().handle_request(request)

    try:
        set_faults(running, next_posts_by_type={"import/project_media": ["500-before", "ok"]})
        limiter = RateLimiter(sleep=clock.wait, clock=clock.monotonic)
        with DescriptClient(
            running.base_url,
            Token(TOKEN),
            limiter=limiter,
            sleep=clock.wait,
            wall_clock=clock.wall,
            transport=Recording(),
        ) as client:
            client.status()
            result = run_engine(client, doc, workspace, SPANS, clock.wait)
        projects = httpx.get(f"{running.root_url}/_emulator/projects").json()["projects"]
    finally:
        running.stop()
    assert result.ok, result.failures
    assert Counter(p["name"] for p in projects) == Counter({"Episode 1": 1, "Episode 2": 1})
    assert len(posts) == 3 and posts[1] >= posts[0] + 40.0  # the 5xx'd create, sent again
    assert named and all(t >= posts[0] + 40.0 for t in named), [t - posts[0] for t in named]
    assert len(named) == 1
