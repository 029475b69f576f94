"""What a create in doubt costs: every project creation waits on the create gate while one
create's outcome is unknown, and the run says for how long. Real HTTP to an emulator on a manual
clock: every wait of the tool moves the API's time, so minutes pass in a moment."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import httpx

from descript_iac.api import DescriptClient, Token
from descript_iac.api.ratelimit import RateLimiter
from descript_iac.apply import ApplyOptions, ApplyResult, Engine
from descript_iac.apply.reporting import SilentReporter
from descript_iac.cli.progress import summary_lines
from descript_iac.config import load_workspace
from descript_iac.plan import PlanOptions, compute_plan
from descript_iac.state.document import StateDocument
from descript_iac.state.events import Event, apply_event
from descript_iac.timing import Timing
from tests.builders import (
    TOKEN,
    ManualTime,
    run_engine,
    set_faults,
    start_emulator,
    write_workspace,
)

TWO_CREATES = """
version: 1
projects:
  ep-1:
    name: Episode 1
    media: {host.wav: {url: "https://cdn.example.com/1/host.wav"}}
  ep-2:
    name: Episode 2
    media: {host.wav: {url: "https://cdn.example.com/2/host.wav"}}
"""


def _apply(
    tmp_path: Path,
    level: str,
    first_post: str,
    timing: Timing,
    text: str = TWO_CREATES,
    posts: list[str] | None = None,
    **faults: object,
) -> tuple[ApplyResult, list, StateDocument]:
    """Apply `text`; the first import POST gets `first_post` (or the import POSTs get `posts`).
    Returns the result, the emulator's projects and the state."""
    workspace = load_workspace(write_workspace(tmp_path / "ws", {"main.yaml": text}))
    doc = StateDocument()

    def record(event: Event) -> None:
        apply_event(doc, event)

    running = start_emulator(job_seconds=1.0, manual_clock=True, api_level=level, **faults)
    clock = ManualTime(running)
    wait = clock.wait
    try:
        scripted = posts or [first_post, "ok"]
        set_faults(running, next_posts={"import/project_media": scripted})
        limiter = RateLimiter(sleep=wait, clock=clock.monotonic)
        with DescriptClient(
            running.base_url, Token(TOKEN), limiter=limiter, sleep=wait, wall_clock=clock.wall
        ) as client:
            client.status()
            plan = compute_plan(workspace.projects, doc, PlanOptions())
            options = ApplyOptions(poll_interval=2.0, timing=timing)
            engine = Engine(
                client, doc, workspace, plan, SilentReporter(), record, options, sleep=wait
            )
            result = engine.run()
        projects = httpx.get(f"{running.root_url}/_emulator/projects").json()["projects"]
    finally:
        running.stop()
    return result, projects, doc


def test_a_5xx_create_holds_the_gate_for_commit_span_and_history_lag(tmp_path: Path) -> None:
    """At the seed level, a create whose POST got a 5xx holds every other create until its
    evidence is complete: 300 s + 120 s by default. The summary says how long, and why."""
    result, projects, _ = _apply(tmp_path, "seed", "500-before", Timing())
    assert result.ok, result.failures
    # Exactly once all the same: the 5xx made nothing, the job was sent again once.
    assert Counter(p["name"] for p in projects) == Counter({"Episode 1": 1, "Episode 2": 1})
    assert result.creates_in_doubt == 1
    # The gate is held from the 5xx until the evidence is complete (plus the Date clock's
    # second of resolution and a read): never less than the two spans, and not much more.
    assert 420 <= result.gate_held <= 423, result.gate_held
    summary = "\n".join(summary_lines(result))
    assert (
        f"Creates waited {result.gate_held:.0f} s on 1 job(s) in doubt "
        "(at most commit span 300 s + history lag 120 s each" in summary
    )


def test_on_a_running_clock_a_5xx_create_is_sent_again_at_its_evidence_and_no_sooner(
    tmp_path: Path,
) -> None:
    """The API's clock runs at this machine's rate (1234.5 s apart), and the run has read it
    for a few seconds: the `Date` readings are intersected (api/clock.py), so a create answered
    5xx is sent again within 0.5 s of commit span + history lag after its first POST, on the
    API's own clock (40.36-40.40 s seen; one reading's error, 0.75 s each way, made it 40.55 s
    at least, 41.40 s seen), and never before: the evidence is complete by then."""
    workspace = load_workspace(write_workspace(tmp_path / "ws", {"main.yaml": TWO_CREATES}))
    doc = StateDocument()
    running = start_emulator(job_seconds=1.0, manual_clock=True, api_level="seed")
    api = running.backend.clock
    posts: list[tuple[float, str]] = []  # (the API's time, project name) of each import POST

    class Recording(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "POST" and request.url.path.endswith("import/project_media"):
                posts.append((api.now(), json.loads(request.content)["project_name"]))
            return super().handle_request(request)

    def wait(seconds: float) -> None:
        api.advance(max(seconds, 0.05))

    def local() -> float:
        return api.now() - 1234.5

    try:
        set_faults(running, next_posts={"import/project_media": ["500-before", "ok", "ok"]})
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
            for _ in range(12):  # a few seconds of replies, at every phase of the second
                client.status()
                wait(0.37)
            assert client.clock.sharpened and client.clock.error < 0.2
            timing = Timing(commit_span=30.0, history_lag=10.0)
            result = run_engine(client, doc, workspace, timing, wait)
        projects = httpx.get(f"{running.root_url}/_emulator/projects").json()["projects"]
    finally:
        running.stop()
    assert result.ok, result.failures
    assert Counter(p["name"] for p in projects) == Counter({"Episode 1": 1, "Episode 2": 1})
    (first, name), *later = posts
    again = next(at for at, other in later if other == name)
    assert 30.0 + 10.0 <= again - first <= 30.0 + 10.0 + 0.5, again - first


def test_a_lost_create_confirmed_by_its_name_frees_the_gate_at_once(tmp_path: Path) -> None:
    """At the 2026 level a lost create's job is confirmed by its project's name as soon as the
    history shows it: the gate is held for a moment, not until the evidence is complete."""
    result, projects, _ = _apply(tmp_path, "2026", "lose", Timing())
    assert result.ok, result.failures
    assert Counter(p["name"] for p in projects) == Counter({"Episode 1": 1, "Episode 2": 1})
    assert result.creates_in_doubt == 1
    assert result.gate_held <= 1.0, result.gate_held
    # With no create in doubt, the summary says nothing of it.
    quiet, _, _ = _apply(tmp_path / "quiet", "2026", "ok", Timing())
    assert quiet.creates_in_doubt == 0 and quiet.gate_held == 0
    assert not any("Creates waited" in line for line in summary_lines(quiet))


def test_the_next_steps_of_projects_made_go_on_while_a_create_is_in_doubt(tmp_path: Path) -> None:
    """The creates parked behind a create in doubt cannot use the rate budget: polls are not put
    off for them, so the step of a project already made is sent once its import is over, not
    when the queue of creates would have drained (10 s at 1 request per second)."""
    text = TWO_CREATES.replace(
        '    media: {host.wav: {url: "https://cdn.example.com/1/host.wav"}}',
        '    media: {host.wav: {url: "https://cdn.example.com/1/host.wav"}}\n'
        "    steps: [{id: caps, prompt: Add captions}]",
    ) + "".join(
        f"  ep-{i}:\n    name: Episode {i}\n"
        f'    media: {{host.wav: {{url: "https://cdn.example.com/{i}/host.wav"}}}}\n'
        for i in range(3, 13)
    )
    posts = ["ok", "500-before"]  # Episode 1's import, then Episode 2's: in doubt for 420 s
    result, projects, doc = _apply(
        tmp_path, "seed", "", Timing(), text, posts, rate_limit=1, rate_window=1.0
    )
    assert result.ok, result.failures
    assert len(projects) == 12 and result.creates_in_doubt == 1
    made = doc.projects["ep-1"]
    assert made.import_ is not None and made.steps[0].sent_at is not None
    # Its import runs 1 s; its step goes a few requests later (at 1 request per second the
    # doubt's first reads and the drive's identity share the budget: 6-7 s here), while
    # Episode 2 is still in doubt: before the 10 creates parked behind it could have drained
    # (the old rule sent it after 19 s).
    assert made.steps[0].sent_at - made.import_.sent_at < 10
