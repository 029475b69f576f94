"""Plan at scale against the libyaml floor (issue #13), each run in a fresh process:

    python benchmarks/plan_scale.py [--projects 10000] [--per-file 100] [--runs 3]

The floor is what no YAML-based plan can beat: the interpreter, `import click, pydantic,
ruamel.yaml`, and a libyaml C safe load (PyYAML's CSafeLoader) of the same files. Measured:
a cold plan (empty workspace cache) against an empty and a fully applied state, a second plan
of unchanged files (the workspace cache is warm), and a cold plan at a tenth of the size
(linear growth). Prints a table of medians with the peak RSS of each process.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import CLI, Run, load_note, median, print_table, run_process
from workload import ENV, applied_state, write_workspace

FLOOR = """
import sys, glob, click, pydantic, ruamel.yaml, yaml
for name in sorted(glob.glob(sys.argv[1] + "/*.yaml")):
    with open(name, encoding="utf-8") as f:
        yaml.load(f.read(), Loader=yaml.CSafeLoader)
"""


def prepare(tmp: Path, projects: int, per_file: int) -> tuple[Path, Path]:
    """The workspace and its applied state, made in a child process: this one stays small, as
    a child's peak RSS starts from its parent's."""
    root = tmp / f"ws-{projects}"
    state = tmp / f"applied-{projects}.json"
    here = Path(__file__).resolve().parent
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from pathlib import Path;"
        "from plan_scale import _prepare; _prepare(Path(sys.argv[2]), int(sys.argv[3]),"
        " int(sys.argv[4]), Path(sys.argv[5]))"
    )
    argv = [sys.executable, "-c", code, str(here), str(root), str(projects), str(per_file)]
    subprocess.run([*argv, str(state)], check=True)
    return root, state


def _prepare(root: Path, projects: int, per_file: int, state: Path) -> None:
    from descript_iac.config import load_workspace
    from descript_iac.state.store import LocalStateStore

    write_workspace(root, projects, per_file)
    LocalStateStore(state).commit(applied_state(load_workspace(root, {**os.environ, **ENV})))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--per-file", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    n, small = args.projects, args.projects // 10
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        root, applied = prepare(tmp, n, args.per_file)
        small_root, small_applied = prepare(tmp, small, max(1, args.per_file // 10))
        cache = tmp / "cache"
        env = {**os.environ, **ENV, "XDG_CACHE_HOME": str(cache)}

        def wipe() -> None:
            shutil.rmtree(cache, ignore_errors=True)

        def plan(ws: Path, state: Path) -> Run:
            # (--forecast off: the forecast of the creates probes their media URLs over the
            # network, and cdn.example.com does not resolve here: 30 s of failed probes.)
            argv = [CLI, "--state", str(state), "plan", str(ws), "--forecast", "off"]
            return run_process(argv, env=env)

        print(f"{n} projects in {len(list(root.iterdir()))} files; {load_note()}")
        floor_argv = [sys.executable, "-c", FLOOR, str(root)]
        small_floor_argv = [sys.executable, "-c", FLOOR, str(small_root)]
        samples: dict[str, list[Run]] = {}

        def sample(label: str, run: Run) -> None:
            samples.setdefault(label, []).append(run)

        # Rounds of every measure in turn, so that a busy moment of the machine (shared with
        # other work) weighs on the floor and on the plans alike; medians of the rounds.
        for _ in range(args.runs):
            sample("floor", run_process(floor_argv))
            wipe()
            sample("empty", plan(root, tmp / "none.json"))
            wipe()
            sample("cold", plan(root, applied))
            sample("warm", plan(root, applied))  # the cold run above filled the cache
            sample("small_floor", run_process(small_floor_argv))
            wipe()
            sample("small_cold", plan(small_root, small_applied))
        floor, empty, cold, warm, small_floor, small_cold = (
            median(samples[k])
            for k in ("floor", "empty", "cold", "warm", "small_floor", "small_cold")
        )
        print(f"after: {load_note()}")

    def row(label: str, run: Run, bound: float, target: str) -> tuple[str, ...]:
        return (
            label,
            f"{run.seconds:.2f} s, {run.rss_mb:.0f} MB",
            f"{bound:.2f} s",
            f"{run.seconds / bound:.2f}x",
            target,
        )

    rows = [
        (
            f"floor: libyaml safe load, {n}",
            f"{floor.seconds:.2f} s, {floor.rss_mb:.0f} MB",
            "",
            "",
            "",
        ),
        row(f"plan {n}, empty state, cold", empty, floor.seconds, "<= 1.2x"),
        row(f"plan {n}, applied state, cold", cold, floor.seconds, "<= 1.2x"),
        row(f"plan {n}, applied state, cached", warm, floor.seconds, "< 1.0x"),
        (
            f"floor: libyaml safe load, {small}",
            f"{small_floor.seconds:.2f} s, {small_floor.rss_mb:.0f} MB",
            "",
            "",
            "",
        ),
        row(f"plan {small}, applied state, cold", small_cold, small_floor.seconds, "<= 1.2x"),
        (
            f"growth {n}/{small} (applied, cold)",
            f"{cold.seconds / small_cold.seconds:.1f}x",
            "",
            "",
            "<= 11x",
        ),
        (
            f"peak RSS, plan {n} applied",
            f"{max(cold.rss_mb, warm.rss_mb):.0f} MB",
            "400 MB",
            f"{max(cold.rss_mb, warm.rss_mb) / 400:.2f}x",
            "<= 1.0x",
        ),
    ]
    print_table(rows)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
