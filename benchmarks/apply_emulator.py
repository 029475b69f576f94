"""Apply throughput against the in-process emulator, run by hand:

    python benchmarks/apply_emulator.py [--projects N] [--parallelism P] [--job-seconds S]

Prints the wall time, jobs per second and API requests per job.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from descript_iac.api import DescriptClient, Token
from descript_iac.api.ratelimit import RateLimiter
from descript_iac.apply import ApplyOptions, Engine
from descript_iac.cli.progress import Reporter
from descript_iac.config import load_workspace
from descript_iac.emulator import EmulatorConfig
from descript_iac.emulator.server import make_backend, start_background
from descript_iac.plan import PlanOptions, compute_plan
from descript_iac.state.events import apply_event
from descript_iac.state.store import LocalStateStore

PROJECT = """  ep-{i:05d}:
    media:
      host.wav: {{url: "https://cdn.example.com/ep{i}/host.wav"}}
    steps:
      - {{id: clean, prompt: Remove filler words}}
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument("--job-seconds", type=float, default=0.5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        root = tmp / "ws"
        root.mkdir()
        body = "".join(PROJECT.format(i=i) for i in range(args.projects))
        (root / "main.yaml").write_text(f"version: 1\nprojects:\n{body}")
        workspace = load_workspace(root)
        store = LocalStateStore(tmp / "state.json")
        backend = make_backend(EmulatorConfig(tokens=("bench",), job_seconds=args.job_seconds))
        running = start_background(backend)
        try:
            with (
                store.lock("bench"),
                DescriptClient(running.base_url, Token("bench"), limiter=RateLimiter()) as client,
            ):
                doc = store.recover()
                store.begin(doc)

                def record(event: dict) -> None:  # type: ignore[type-arg]
                    store.append(event)
                    apply_event(doc, event)

                plan = compute_plan(workspace.projects, doc, PlanOptions())
                log = open(tmp / "log.txt", "w")  # noqa: SIM115
                options = ApplyOptions(parallelism=args.parallelism, poll_interval=0.25)
                engine = Engine(client, doc, workspace, plan, Reporter(log), record, options)
                start = time.perf_counter()
                result = engine.run()
                elapsed = time.perf_counter() - start
                store.commit(doc)
                calls = dict(client.calls)
        finally:
            running.stop()
    jobs = result.jobs_issued
    requests = sum(calls.values())
    what = f"{jobs} jobs of {args.job_seconds}s, parallelism {args.parallelism}"
    print(f"{args.projects} projects, {what}")
    print(f"wall time {elapsed:.1f}s, {jobs / elapsed:.1f} jobs/s, ok={result.ok}")
    print(f"{requests} requests ({requests / jobs:.2f} per job): {calls}")


if __name__ == "__main__":
    main()
