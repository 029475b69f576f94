"""The phases of a plan at scale, timed in one process (issue #13):

    python benchmarks/plan_phases.py [--projects 10000] [--per-file 100] [--runs 3] [--profile]

Loads the benchmark workspace once, then times `compute_plan` against an empty and a fully
applied state, and the three renderers of each plan (medians of --runs). With --profile, a
cProfile of the empty-state plan and its text rendering is printed (top 25 by own time).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import load_note
from workload import ENV, applied_state, write_workspace


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--per-file", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    from descript_iac.config import load_workspace
    from descript_iac.plan import PlanOptions, compute_plan
    from descript_iac.plan.markdown import render_markdown
    from descript_iac.plan.render import render_text
    from descript_iac.plan.report import render_json
    from descript_iac.state.document import StateDocument

    print(load_note())
    with tempfile.TemporaryDirectory() as name:
        root = Path(name) / "ws"
        write_workspace(root, args.projects, args.per_file)
        start = time.perf_counter()
        workspace = load_workspace(root, {**os.environ, **ENV})
        print(f"load_workspace: {time.perf_counter() - start:.2f} s (once)")
    applied = applied_state(workspace)
    empty = StateDocument(salt=applied.salt)
    rows = []
    plans = {}
    for label, doc in (("empty", empty), ("applied", applied)):
        seconds, plan = timed(
            lambda doc=doc: compute_plan(workspace.projects, doc, PlanOptions()), args.runs
        )
        plans[label] = plan
        rows.append((f"compute_plan, {label} state ({len(plan.actions)} actions)", seconds))
        for fmt, render in (
            ("text", render_text),
            ("json", render_json),
            ("markdown", render_markdown),
        ):
            seconds, _ = timed(lambda render=render, plan=plan: render(plan), args.runs)
            rows.append((f"render {fmt}, {label} state", seconds))
    width = max(len(r[0]) for r in rows)
    for label, seconds in rows:
        print(f"{label.ljust(width)}  {seconds:6.3f} s")
    print(load_note())
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        plan = compute_plan(workspace.projects, empty, PlanOptions())
        render_text(plan)
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
