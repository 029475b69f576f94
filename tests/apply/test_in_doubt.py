"""The engine with a POST in doubt: it holds only its own gate, everything else goes on, and the
job is found, not sent twice. Real HTTP to the emulator; the lost reply is cut on this side."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from descript_iac.api import DescriptClient, Token
from descript_iac.api.ratelimit import RateLimiter
from descript_iac.apply import ApplyOptions, Engine
from descript_iac.apply.reporting import SilentReporter
from descript_iac.config import load_workspace
from descript_iac.plan import PlanOptions, compute_plan
from descript_iac.state.document import StateDocument
from descript_iac.state.drive import LocalDriveRegistry
from descript_iac.state.events import Event, apply_event
from descript_iac.timing import Timing
from tests.builders import TOKEN, start_emulator, write_workspace

WORKSPACE = """
version: 1
projects:
  a-lost:
    media: {host.wav: {url: "https://cdn.example.com/a/host.wav"}}
    steps: [{id: one, prompt: Add captions}]
  b-prompt:
    steps: [{id: write, prompt: Write a script}, {id: two, prompt: Add a title card}]
  c-import:
    media: {host.wav: {url: "https://cdn.example.com/c/host.wav"}}
"""


class LoseReplies(httpx.BaseTransport):
    """Forwards every request; the reply to the first import POST is lost after it committed."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.log: list[tuple[float, str]] = []
        self.lost = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "POST":
            response.read()
            name = request.content.decode()
            self.log.append((time.monotonic(), name))
            if "import" in request.url.path and not self.lost:
                self.lost = True
                raise httpx.ReadTimeout("the reply was lost", request=request)
        return response


class Notes(SilentReporter):
    def __init__(self) -> None:
        self.lines: list[tuple[float, str]] = []

    def note(self, text: str) -> None:
        self.lines.append((time.monotonic(), text))


def test_a_post_in_doubt_holds_only_its_own_gate(tmp_path: Path) -> None:
    workspace = load_workspace(write_workspace(tmp_path / "ws", {"main.yaml": WORKSPACE}))
    doc = StateDocument()

    def record(event: Event) -> None:
        apply_event(doc, event)

    running = start_emulator(job_seconds=0.05)
    transport = LoseReplies()
    notes = Notes()
    try:
        with DescriptClient(
            running.base_url, Token(TOKEN), transport=transport, limiter=RateLimiter()
        ) as client:
            client.status()
            plan = compute_plan(workspace.projects, doc, PlanOptions())
            options = ApplyOptions(
                poll_interval=0.05, timing=Timing(commit_span=1.0, history_lag=0.5)
            )
            registry = LocalDriveRegistry(tmp_path / "drive")
            engine = Engine(client, doc, workspace, plan, notes, record, options, registry)
            result = engine.run()
        projects = httpx.get(f"{running.root_url}/_emulator/projects").json()["projects"]
    finally:
        running.stop()
    assert result.ok, result.failures
    # Exactly one job per intent: the lost import was found, not sent again.
    imports = [j for p in projects for j in p["jobs"] if j["job_type"] == "import/project_media"]
    assert len(imports) == 2 and len(projects) == 3
    assert doc.projects["a-lost"].import_ is not None
    assert doc.projects["a-lost"].import_.job_id in {j["job_id"] for j in imports}
    found = next(t for t, line in notes.lines if "a-lost" in line and "found in the job" in line)
    # While it was in doubt, the agent jobs went on ...
    agent_posts = [t for t, body in transport.log if '"prompt"' in body and "Write" in body]
    assert agent_posts and agent_posts[0] < found
    # ... and the other import (the same gate: it could have looked alike) waited for it.
    c_post = next(t for t, body in transport.log if "/c/host.wav" in body)
    assert c_post > found
