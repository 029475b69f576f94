"""The engine keeps going when a poll round fails (the jobs run on regardless)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from descript_iac.api import DescriptClient, Token
from descript_iac.api.errors import TransportFailure
from descript_iac.api.ratelimit import RateLimiter
from descript_iac.apply import ApplyOptions, Engine
from descript_iac.cli.progress import Reporter
from descript_iac.config import load_workspace
from descript_iac.plan import PlanOptions, compute_plan
from descript_iac.state.document import StateDocument
from descript_iac.state.events import Event, apply_event
from tests.builders import TOKEN, start_emulator, write_workspace


class FlakyPoller:
    def __init__(self, real: Any, failures: int) -> None:
        self.real, self.failures = real, failures

    def refresh(self, jobs: Any) -> Any:
        if self.failures:
            self.failures -= 1
            raise TransportFailure("GET /jobs: network is unreachable")
        return self.real.refresh(jobs)


def test_failed_poll_rounds_are_retried(tmp_path: Path) -> None:
    root = write_workspace(
        tmp_path / "ws",
        {"main.yaml": "version: 1\nprojects:\n  ep:\n    steps: [{id: a, prompt: Add captions}]\n"},
    )
    workspace = load_workspace(root)
    doc = StateDocument()
    events: list[Event] = []

    def record(event: Event) -> None:
        events.append(event)
        apply_event(doc, event)

    running = start_emulator(job_seconds=0.01)
    notes: list[str] = []
    try:
        with DescriptClient(running.base_url, Token(TOKEN), limiter=RateLimiter()) as client:
            plan = compute_plan(workspace.projects, doc, PlanOptions())
            reporter = Reporter(open(tmp_path / "log.txt", "w"))  # noqa: SIM115
            reporter.note = notes.append  # type: ignore[method-assign]
            engine = Engine(
                client, doc, workspace, plan, reporter, record, ApplyOptions(poll_interval=0.01)
            )
            engine.poller = FlakyPoller(engine.poller, failures=3)  # type: ignore[assignment]
            result = engine.run()
    finally:
        running.stop()
    assert result.ok and result.steps_run == 1
    assert notes.count("Polling failed (GET /jobs: network is unreachable); retrying.") == 3
    assert doc.projects["ep"].steps[0].status == "success"


def test_a_job_that_never_stops_is_left_running_not_waited_for_for_ever(tmp_path: Path) -> None:
    """Bounded waits: the run ends (and releases the lock); the job stays recorded."""
    root = write_workspace(
        tmp_path / "ws",
        {"main.yaml": "version: 1\nprojects:\n  ep:\n    steps: [{id: a, prompt: Add captions}]\n"},
    )
    workspace = load_workspace(root)
    doc = StateDocument()
    running = start_emulator(manual_clock=True)  # time stands still: the job never stops
    try:
        with DescriptClient(running.base_url, Token(TOKEN), limiter=RateLimiter()) as client:
            plan = compute_plan(workspace.projects, doc, PlanOptions())
            reporter = Reporter(open(tmp_path / "log.txt", "w"))  # noqa: SIM115
            options = ApplyOptions(poll_interval=0.01, max_job_wait=0.2)
            engine = Engine(
                client, doc, workspace, plan, reporter, lambda e: apply_event(doc, e), options
            )
            result = engine.run()
    finally:
        running.stop()
    assert result.jobs_issued == 1 and not result.failures
    assert "still running after" in result.attention[0]
    assert doc.projects["ep"].steps[0].job_state in ("queued", "running")


def test_an_event_that_cannot_be_journaled_stops_every_post(tmp_path: Path) -> None:
    """The state's lock went with its database session: the journal refuses the next event.
    The engine must not swallow that: no POST goes out after it, in any project."""
    import pytest

    from descript_iac.errors import LockLost
    from descript_iac.state.events import IntentOpened

    steps = "steps: [{id: a, prompt: Add captions}, {id: b, prompt: Add music}]"
    projects = "".join(f"  ep{i}:\n    {steps}\n" for i in range(4))
    root = write_workspace(tmp_path / "ws", {"main.yaml": f"version: 1\nprojects:\n{projects}"})
    workspace = load_workspace(root)
    doc = StateDocument()
    opened: list[str] = []

    def record(event: Event) -> None:
        if isinstance(event, IntentOpened):
            if len(opened) == 2:
                raise LockLost("the connection to PostgreSQL was lost")
            opened.append(event.address)
        apply_event(doc, event)

    running = start_emulator(job_seconds=0.01)
    try:
        with DescriptClient(running.base_url, Token(TOKEN), limiter=RateLimiter()) as client:
            plan = compute_plan(workspace.projects, doc, PlanOptions())
            reporter = Reporter(open(tmp_path / "log.txt", "w"))  # noqa: SIM115
            engine = Engine(
                client, doc, workspace, plan, reporter, record, ApplyOptions(poll_interval=0.01)
            )
            with pytest.raises(LockLost):
                engine.run()
            sent = len(running.backend.jobs)
    finally:
        running.stop()
    assert sent == 2  # the two POSTs journaled before; none after
