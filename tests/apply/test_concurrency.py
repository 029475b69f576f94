"""Several POSTs in flight at once, within the drive gate rules (state/drive.py).

The journal is the proof: every intent is opened before its POST goes out and closed (its job
recorded, or dropped) only after its reply, so two intents open at the same time are two POSTs
in flight (or in doubt) at the same time. POSTs of different gates overlap; two of one gate
never do, in flight or in doubt. Driven with the emulator's manual clock: each wait of the
engine is the API's time passing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from descript_iac.api import DescriptClient, Token
from descript_iac.api.ratelimit import RateLimiter
from descript_iac.apply import ApplyOptions, Engine
from descript_iac.apply.reporting import SilentReporter
from descript_iac.apply.result import ApplyResult
from descript_iac.config import load_workspace
from descript_iac.plan import PlanOptions, compute_plan
from descript_iac.state.document import StateDocument
from descript_iac.state.drive import gate_key
from descript_iac.state.events import (
    Event,
    IntentDropped,
    IntentOpened,
    JobSubmitted,
    Quarantined,
    apply_event,
)
from descript_iac.timing import Timing
from tests.builders import (
    TOKEN,
    ManualTime,
    emulator_jobs,
    set_faults,
    start_emulator,
    write_workspace,
)

MEDIA_ONLY = """
  {name}:
    name: "{name}"
    media:
      host.wav: {{url: "https://cdn.example.com/{name}/host.wav"}}
    compositions:
      - name: Full episode
        clips: [{{media: host.wav}}]
"""
STEPS = """    steps:
      - {id: clean, prompt: Remove filler words}
      - {id: caps, prompt: Add captions}
"""


def _text(media_only: list[str], with_steps: list[str]) -> str:
    body = "".join(MEDIA_ONLY.format(name=n) for n in media_only)
    body += "".join(MEDIA_ONLY.format(name=n) + STEPS for n in with_steps)
    return f"version: 1\nprojects:{body}"


class Journal:
    """The events of one or more runs, in order, applied to one document."""

    def __init__(self) -> None:
        self.doc = StateDocument()
        self.events: list[Event] = []

    def record(self, event: Event) -> None:
        self.events.append(event)
        apply_event(self.doc, event)

    def open_together(self) -> list[list[str]]:
        """Each moment an intent was opened: the gates of every intent open at that moment."""
        open_: dict[str, str] = {}  # intent id -> gate
        moments = []
        for event in self.events:
            if isinstance(event, IntentOpened):
                intent = event.intent
                open_[intent.intent_id] = gate_key(intent.job_type, intent.project_id)
                moments.append(sorted(open_.values()))
            elif isinstance(event, (JobSubmitted, IntentDropped)):
                open_.pop(event.intent_id, None)
            elif isinstance(event, Quarantined) and event.quarantine.intent_id:
                open_.pop(event.quarantine.intent_id, None)
        return moments


@contextmanager
def emulator(**faults: object) -> Iterator[tuple[Any, DescriptClient, Callable[[float], None]]]:
    running = start_emulator(manual_clock=True, job_seconds=1.0)
    clock = ManualTime(running)
    wait = clock.wait
    if faults:
        set_faults(running, **faults)
    limiter = RateLimiter(sleep=wait, clock=clock.monotonic)
    try:
        with DescriptClient(
            running.base_url,
            Token(TOKEN),
            limiter=limiter,
            sleep=wait,
            wall_clock=clock.wall,
        ) as client:
            yield running, client, wait
    finally:
        running.stop()


def apply(
    tmp_path: Path,
    text: str,
    journal: Journal,
    client: DescriptClient,
    wait: Callable[[float], None],
) -> ApplyResult:
    root = write_workspace(tmp_path / "ws", {"main.yaml": text})
    workspace = load_workspace(root)
    plan = compute_plan(workspace.projects, journal.doc, PlanOptions())
    options = ApplyOptions(poll_interval=0.5, timing=Timing(commit_span=30, history_lag=0))
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
    return engine.run()


def test_posts_of_different_gates_fly_together_and_of_one_gate_never(tmp_path: Path) -> None:
    """`old` exists and gets its two steps; `new-1`..`new-3` are imported, then stepped. The
    step on `old` and an import go out together, the three projects' steps go out together,
    and the three imports (one gate: a job that makes a project) go one after another."""
    journal = Journal()
    with emulator() as (running, client, wait):
        first = apply(tmp_path, _text(["old"], []), journal, client, wait)
        assert first.ok
        journal.events.clear()
        text = _text([], ["old", "new-1", "new-2", "new-3"])
        result = apply(tmp_path, text, journal, client, wait)
        jobs = Counter(
            (j["project"]["name"], j["prompt"] or j["job_type"]) for j in emulator_jobs(running)
        )
    assert result.ok, result.failures
    made = Counter(
        dict.fromkeys(["import/project_media", "Remove filler words", "Add captions"], 1)
    )
    for name in ("old", "new-1", "new-2", "new-3"):  # each job once, none twice
        assert Counter({k[1]: n for k, n in jobs.items() if k[0] == name}) == made
    moments = journal.open_together()
    import_gate = gate_key("import/project_media", None)
    # An import and a step in flight at once (two job types).
    assert any(import_gate in m and any(g.startswith("agent@") for g in m) for m in moments)
    # Steps on three projects in flight at once (one job type, three gates).
    assert max(sum(g.startswith("agent@") for g in m) for m in moments) >= 3
    # Never two POSTs of one gate.
    assert all(max(Counter(m).values()) == 1 for m in moments), moments


def test_no_post_of_a_gate_goes_while_one_of_it_is_in_doubt(tmp_path: Path) -> None:
    """The first import's reply is lost: the other imports wait until its job is found in the
    history, and each project ends with exactly one import."""
    journal = Journal()
    names = ["ep-1", "ep-2", "ep-3"]
    with emulator(next_posts={"import/project_media": ["lose"]}) as (running, client, wait):
        result = apply(tmp_path, _text(names, []), journal, client, wait)
        jobs = emulator_jobs(running)
    assert result.ok, result.failures
    assert sorted(j["project"]["name"] for j in jobs) == names  # one import each, none twice
    moments = journal.open_together()
    assert all(len(m) == 1 for m in moments), moments
    unknown = [e for e in journal.events if type(e).__name__ == "IntentUnknown"]
    assert len(unknown) == 1
