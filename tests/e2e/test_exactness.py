"""Exactly once against a server that behaves like a busy account: a job history that lags,
throttling that lasts minutes, and other clients making look-alike jobs on the same drive.

Each test drives the real CLI (or the engine, where only it can stand in for minutes of
Retry-After) against the emulator on a real socket, with its manual clock: the API's minutes
pass in a second of real time."""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from descript_iac.api import DescriptClient, Token
from descript_iac.api.ratelimit import RateLimiter
from descript_iac.apply import ApplyOptions, Engine
from descript_iac.apply.reporting import SilentReporter
from descript_iac.config import load_workspace
from descript_iac.plan import PlanOptions, compute_plan
from descript_iac.state.document import StateDocument
from descript_iac.state.events import Event, IntentSent, apply_event
from descript_iac.timing import Timing
from tests.builders import TOKEN, ManualTime, set_faults, start_emulator, write_workspace
from tests.e2e.conftest import Served, cli, ticking

pytestmark = pytest.mark.e2e

EPISODE = """
version: 1
projects:
  episode:
    name: Episode 42
    media:
      host.wav: {url: "https://cdn.example.com/ep42/host.wav"}
      guest.wav: {url: "https://cdn.example.com/ep42/guest.wav"}
    compositions:
      - name: Full episode
        clips: [{media: host.wav}, {media: guest.wav}]
    steps:
      - {id: clean, prompt: Remove filler words}
      - {id: caps, prompt: Add captions}
"""
SCRIPT = """
version: 1
projects:
  coffee:
    name: Coffee script
    steps:
      - {id: write, prompt: Write a script about coffee}
"""
APPLY = ("apply", "ws", "--auto-approve", "--poll-interval", "0.02")


def _workspace(tmp_path: Path, text: str) -> Path:
    return write_workspace(tmp_path / "ws", {"main.yaml": text})


def _jobs_by_project(served: Served) -> dict[str, Counter[str]]:
    out: dict[str, Counter[str]] = {}
    for project in served.projects():
        out.setdefault(project["name"], Counter()).update(
            j["prompt"] or j["job_type"] for j in project["jobs"]
        )
    return out


def _state(tmp_path: Path) -> dict[str, Any]:
    return json.loads((tmp_path / "state" / "ws.json").read_text())


@contextlib.contextmanager
def look_alike_at_our_post(
    served: Served, outcome: str, foreign: dict[str, Any]
) -> Iterator[list[str]]:
    """When our scripted POST has been answered, another client makes `foreign` at that very
    moment of the API's clock; then time moves on as in `ticking`. Yields [foreign job id]."""
    made: list[str] = []
    stop = threading.Event()

    def run() -> None:
        with httpx.Client(base_url=f"{served.root}/_emulator") as client:
            try:
                while not stop.is_set() and not client.get("stats").json().get(f"script:{outcome}"):
                    stop.wait(0.005)
                reply = client.post("foreign", json=foreign)
                reply.raise_for_status()
                made.append(reply.json()["job_id"])
            finally:  # time moves on whatever happened, so the command under test can end
                while not stop.is_set():
                    client.post("clock/advance", json={"seconds": 1.0})
                    stop.wait(0.01)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield made
    finally:
        stop.set()
        thread.join()
    assert made, "the look-alike job was not made"


def _env(served: Served, **extra: str) -> dict[str, str]:
    return served.env(DESCRIPT_IAC_COMMIT_SPAN="30", DESCRIPT_IAC_HISTORY_LAG="120", **extra)


def test_a_lagging_history_never_makes_a_job_twice(served_manual: Served, tmp_path: Path) -> None:
    """The server commits the step, drops the reply, and lists the job 75 s later (more than
    the 60 s after which the old resolver re-sent it): it is adopted when it appears."""
    _workspace(tmp_path, EPISODE)
    served_manual.faults(history_lag=75, next_posts={"agent": ["lose"]})
    with ticking(served_manual, step=1.0):
        done = cli(*APPLY, env=_env(served_manual), cwd=tmp_path, timeout=60)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "waiting for evidence until" in output
    assert _jobs_by_project(served_manual) == {
        "Episode 42": Counter(
            {"import/project_media": 1, "Remove filler words": 1, "Add captions": 1}
        )
    }
    steps = _state(tmp_path)["projects"]["episode"]["steps"]
    assert [s["status"] for s in steps] == ["success", "success"]


def test_a_throttling_storm_then_a_lost_reply_never_makes_a_job_twice(tmp_path: Path) -> None:
    """Eight 429s with Retry-After 60, then the reply is lost: the job was created eight minutes
    after the intent was written. Its window follows the attempt that went out last."""
    workspace = load_workspace(_workspace(tmp_path, EPISODE))
    doc = StateDocument()
    sent: list[IntentSent] = []

    def record(event: Event) -> None:
        if isinstance(event, IntentSent):
            sent.append(event)
        apply_event(doc, event)

    running = start_emulator(job_seconds=1.0, manual_clock=True, retry_after=60)
    clock = ManualTime(running, least=0.5)
    wait = clock.wait
    try:
        set_faults(running, next_posts={"agent": ["429"] * 8 + ["lose"]})
        limiter = RateLimiter(sleep=wait, clock=clock.monotonic)
        with DescriptClient(
            running.base_url, Token(TOKEN), limiter=limiter, sleep=wait, wall_clock=clock.wall
        ) as client:
            client.status()
            started = client.clock.now()
            plan = compute_plan(workspace.projects, doc, PlanOptions())
            options = ApplyOptions(poll_interval=2.0, timing=Timing())
            engine = Engine(
                client, doc, workspace, plan, SilentReporter(), record, options, sleep=wait
            )
            result = engine.run()
        projects = httpx.get(f"{running.root_url}/_emulator/projects").json()["projects"]
    finally:
        running.stop()
    assert result.ok, result.failures
    prompts = Counter(j["prompt"] for p in projects for j in p["jobs"] if j["prompt"])
    assert prompts == Counter({"Remove filler words": 1, "Add captions": 1})
    # The send time the window was matched on is the ninth attempt's, eight minutes later.
    last = [e for e in sent if e.intent_id == sent[-1].intent_id][-1]
    assert last.sent_at - started >= 8 * 60


@pytest.mark.parametrize("level", ["seed", "2026"])
def test_another_clients_look_alike_import_is_never_adopted(
    served_manual: Served, tmp_path: Path, level: str
) -> None:
    """Another client imports the same media and composition names in the same minute while
    our reply is lost. Without the projects API nothing tells them apart: quarantine. With it,
    the look-alike is rejected by its project's name and apply converges by itself."""
    _workspace(tmp_path, EPISODE)
    served_manual.faults(api_level=level, next_posts={"import/project_media": ["lose"]})
    body = {"kind": "import", "media": ["host.wav", "guest.wav"], "compositions": ["Full episode"]}
    with look_alike_at_our_post(served_manual, "lose", body) as made:
        done = cli(*APPLY, env=_env(served_manual), cwd=tmp_path, timeout=60)
    foreign_job = made[0]
    output = done.stdout + done.stderr
    project = _state(tmp_path)["projects"]["episode"]
    recorded = {project["import"]["job_id"]} if project.get("import") else set()
    assert foreign_job not in recorded  # never adopted
    jobs = _jobs_by_project(served_manual)
    assert jobs["Episode 42"]["import/project_media"] == 1  # never sent twice
    if level == "seed":
        assert done.returncode == 1 and "quarantined" in output, output
        assert foreign_job in output  # named as a candidate for a person to check
    else:
        assert done.returncode == 0, output
        assert "rejected" in output
        assert jobs["Episode 42"] == Counter(
            {"import/project_media": 1, "Remove filler words": 1, "Add captions": 1}
        )


@pytest.mark.parametrize("level", ["seed", "2026"])
def test_another_clients_prompt_only_create_is_never_adopted(
    served_manual: Served, tmp_path: Path, level: str
) -> None:
    """Our create got a 500 (nothing was made) while another client's prompt-only project was
    created in the window: it must never become ours (the old resolver adopted it, and the next
    step would have run on someone else's project)."""
    _workspace(tmp_path, SCRIPT)
    served_manual.faults(api_level=level, next_posts={"agent": ["500-before"]})
    with look_alike_at_our_post(served_manual, "500-before", {"kind": "prompt_create"}) as made:
        done = cli(*APPLY, env=_env(served_manual), cwd=tmp_path, timeout=60)
    foreign_job = made[0]
    output = done.stdout + done.stderr
    state = _state(tmp_path)["projects"].get("coffee", {})
    assert foreign_job not in {s["job_id"] for s in state.get("steps", [])}
    jobs = _jobs_by_project(served_manual)
    foreign_names = [n for n in jobs if n != "Coffee script"]
    assert len(foreign_names) == 1 and sum(jobs[foreign_names[0]].values()) == 1
    if level == "seed":
        assert done.returncode == 1 and "quarantined" in output, output
        assert "Coffee script" not in jobs
    else:
        assert done.returncode == 0, output
        assert jobs["Coffee script"] == Counter({"Write a script about coffee": 1})


def test_another_users_identical_import_is_never_adopted(
    served_manual: Served, tmp_path: Path
) -> None:
    """Another user of the drive imports a project with our very name, media and composition
    names while our POST failed without creating anything. Nothing in the job view tells them
    apart, but the projects API refuses to show us their project (403): a project this token
    made is always readable by it, so that job is not ours, and apply sends its own."""
    _workspace(tmp_path, EPISODE)
    served_manual.faults(
        api_level="2026",
        foreign_same_user=False,
        next_posts={"import/project_media": ["500-before"]},
    )
    body = {
        "kind": "import",
        "project_name": "Episode 42",
        "media": ["host.wav", "guest.wav"],
        "compositions": ["Full episode"],
    }
    with look_alike_at_our_post(served_manual, "500-before", body) as made:
        done = cli(*APPLY, env=_env(served_manual), cwd=tmp_path, timeout=60)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    project = _state(tmp_path)["projects"]["episode"]
    assert project["import"]["job_id"] != made[0]  # never adopted
    ours = [
        p for p in served_manual.projects() if p["name"] == "Episode 42" and not p.get("foreign")
    ]
    assert len(ours) == 1 and ours[0]["project_id"] == project["project_id"]


def test_the_seconds_a_create_in_doubt_held_every_create_are_reported(
    served: Served, tmp_path: Path
) -> None:
    """A create answered 5xx (nothing made) holds the create gate until its evidence is
    complete; the real CLI says for how long, in its summary and in `--json`'s apply_complete."""
    media = "media: {a.wav: {url: https://x.example/a.wav}}\n    steps:"
    env = served.env(DESCRIPT_IAC_COMMIT_SPAN="1", DESCRIPT_IAC_HISTORY_LAG="0.5")
    outputs = []
    for run, extra in (("json", ("--json",)), ("text", ())):
        name = f"Coffee {run}"
        _workspace(tmp_path / run, SCRIPT.replace("steps:", media).replace("Coffee script", name))
        served.faults(next_posts={"import/project_media": ["500-before", "ok"]})
        done = cli(*APPLY, *extra, "--forecast", "off", env=env, cwd=tmp_path / run, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        assert _jobs_by_project(served)[name]["import/project_media"] == 1  # never twice
        outputs.append(done.stdout)
    events = [json.loads(line) for line in outputs[0].splitlines() if line.startswith("{")]
    complete = next(e for e in events if e["event"] == "apply_complete")
    assert complete["creates_in_doubt"] == 1
    # At least the two spans (1 s + 0.5 s), read again at once once they passed.
    assert 1.5 <= complete["gate_held_seconds"] <= 5, complete
    assert re.search(
        r"Creates waited \d+ s on 1 job\(s\) in doubt \(at most commit span 1 s \+ history "
        r"lag 0.5 s each",
        outputs[1],
    ), outputs[1]
