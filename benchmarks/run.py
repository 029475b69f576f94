"""Benchmarks, run by hand: `python benchmarks/run.py [--projects N]`. Prints figures.

- load + validate a workspace of N projects; plan it against an empty state and against a state
  where all of it was applied; render the plan;
- the cost of one journal event at several state sizes (it must not grow with the state);
- writing the whole state document.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from descript_iac.config import load_workspace
from descript_iac.plan import PlanOptions, compute_plan, digests
from descript_iac.plan.render import render_text
from descript_iac.state.document import (
    ImportRecord,
    MediaRecord,
    ProjectState,
    StateDocument,
    StepRecord,
)
from descript_iac.state.events import IntentDropped
from descript_iac.state.store import LocalStateStore

EPISODE = """  ep-{i:05d}:
    name: "Episode {i}"
    media:
      Misc/intro.mp4: {{url: "https://cdn.example.com/show/intro.mp4"}}
      raw/host.wav: {{url: "https://cdn.example.com/ep{i}/host.wav?sig=abc{i}"}}
      raw/guest.wav: {{url: "https://cdn.example.com/ep{i}/guest.wav"}}
      interview: {{tracks: [{{media: raw/host.wav}}, {{media: raw/guest.wav, offset: 0.35}}]}}
    compositions:
      - name: Full episode
        clips: [{{media: Misc/intro.mp4}}, {{media: interview}}]
    steps:
      - {{id: cleanup, prompt: Remove filler words and add Studio Sound}}
      - {{id: captions, prompt: Add karaoke-style captions}}
"""


def timed(label: str, fn: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{label:<48} {elapsed * 1000:10.1f} ms   max RSS so far {rss:7.1f} MiB")
    return result


def write_workspace(root: Path, count: int, per_file: int = 100) -> None:
    root.mkdir(parents=True)
    for start in range(0, count, per_file):
        body = "".join(EPISODE.format(i=i) for i in range(start, min(count, start + per_file)))
        (root / f"episodes-{start:05d}.yaml").write_text(f"version: 1\nprojects:\n{body}")


def applied_state(workspace: Any) -> StateDocument:
    doc = StateDocument()
    for address, project in workspace.projects.items():
        facets = digests.import_facets(doc.salt, project)
        doc.projects[address] = ProjectState(
            project_id=str(uuid.uuid4()),
            created_by="import",
            facets=facets,
            import_=ImportRecord(
                job_id=str(uuid.uuid4()),
                job_state="stopped",
                status="success",
                media={
                    n: MediaRecord(identity=i, status="success") for n, i in facets.media.items()
                },
            ),
            steps=[
                StepRecord(
                    id=s.id,
                    digest=digests.step_digest(doc.salt, project, s),
                    job_id=str(uuid.uuid4()),
                    job_state="stopped",
                    status="success",
                    agent_response="Done! I've made the edit.",
                )
                for s in project.spec.steps
            ],
        )
    return doc


def journal_cost(tmp: Path, projects: int, events: int = 200) -> float:
    store = LocalStateStore(tmp / f"journal-{projects}.json")
    doc = StateDocument()
    for i in range(projects):
        doc.projects[f"p{i}"] = ProjectState(project_id=str(i))
    store.commit(doc)
    with store.lock("bench"):
        store.begin(doc)
        samples = []
        for i in range(events):
            event = IntentDropped(address=f"p{i % projects}", intent_id="x", reason="benchmark")
            start = time.perf_counter()
            store.append(event)
            samples.append(time.perf_counter() - start)
        store.discard()
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=10_000)
    args = parser.parse_args()
    n = args.projects
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        root = tmp / "show"
        write_workspace(root, n)
        print(f"workspace: {n} projects, 5 media, 1 composition and 2 steps each\n")
        workspace = timed(f"load + validate {n} projects", lambda: load_workspace(root))
        empty = StateDocument()
        plan = timed(
            "plan against an empty state",
            lambda: compute_plan(workspace.projects, empty, PlanOptions()),
        )
        timed("render the plan as text", lambda: render_text(plan))
        state = timed("build a fully applied state", lambda: applied_state(workspace))
        noop = timed(
            "plan against the applied state",
            lambda: compute_plan(workspace.projects, state, PlanOptions()),
        )
        assert not noop.has_changes, "an applied state must plan no changes"
        store = LocalStateStore(tmp / "state.json")
        timed("write the state document (atomic, fsync)", lambda: store.commit(state))
        size = (tmp / "state.json").stat().st_size
        print(f"{'state document size':<48} {size / 2**20:10.1f} MiB")
        timed("read the state document", lambda: LocalStateStore(tmp / "state.json").read())
        print()
        for projects in (10, 1_000, n):
            cost = journal_cost(tmp, projects)
            label = f"journal event (fsynced), state of {projects} projects"
            print(f"{label:<48} {cost * 1e6:10.0f} us")


if __name__ == "__main__":
    main()
