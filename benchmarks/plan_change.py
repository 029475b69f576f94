"""A plan after a one-file change, against the floor of loading that file (issue #26):

    python benchmarks/plan_change.py [--projects 10000] [--per-file 100] [--runs 5]

The workspace of `plan_scale.py`, applied and planned once (which fills the workspace cache
and indexes the state); then three single-file changes, each made anew for every run (a new
step, a changed media URL, a new project), each planned in a fresh process (`--forecast off`:
the forecast of a changed URL probes it over the network). The floor is loading only the
changed file: the interpreter, `import click, pydantic, ruamel.yaml` and a libyaml C safe load
of that one file. The package's bytecode is compiled first. Also measured: the cold plan
(empty cache) against the libyaml floor of all files, a second plan of unchanged files, and the
start-up every plan pays before it reads a file (the plan command's imports, its pydantic models
built), against the one-file floor: the share of a plan's time that no change can lower.
Prints a table of medians with peak RSS.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import CLI, Run, load_note, median, print_table, run_process
from plan_scale import FLOOR, prepare

ONE_FILE_FLOOR = """
import sys, click, pydantic, ruamel.yaml, yaml
with open(sys.argv[1], encoding="utf-8") as f:
    yaml.load(f.read(), Loader=yaml.CSafeLoader)
"""
# What every plan pays before it reads a file: the interpreter and the plan command's imports,
# its pydantic models built (the config models are needed to diff a changed file).
START_UP = "import descript_iac.cli.planning"
STEP = "      - {id: chapters, prompt: Add chapter markers at each topic change}\n"
URL = '"https://cdn.example.com/show/outro.mp4"'


def new_step(text: str, run: int) -> str:
    return text.replace(STEP, STEP + f"      - {{id: extra{run}, prompt: Tighten pacing}}\n", 1)


def new_url(text: str, run: int) -> str:
    return text.replace(URL, f'"https://cdn.example.com/show/outro-v{run}.mp4"', 1)


def new_project(text: str, run: int) -> str:
    first = text.index("  ep-")
    second = text.index("\n  ep-", first) + 1
    block = text[first:second].replace("  ep-", f"  new-{run}-", 1)
    return text + block


CHANGES: dict[str, Callable[[str, int], str]] = {
    "a new step": new_step,
    "a changed media URL": new_url,
    "a new project": new_project,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--per-file", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    n = args.projects
    # The package's bytecode, as pip compiles it on install (startup.py does the same): with
    # PYTHONDONTWRITEBYTECODE set, every process would compile its modules from source.
    spec = importlib.util.find_spec("descript_iac")
    assert spec is not None and spec.origin is not None
    compileall.compile_dir(Path(spec.origin).parent, quiet=1)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        root, applied = prepare(tmp, n, args.per_file)
        from workload import ENV

        cache = tmp / "cache"
        env = {**os.environ, **ENV, "XDG_CACHE_HOME": str(cache)}
        files = sorted(root.glob("*.yaml"))
        target = files[len(files) // 2]
        base = target.read_text()

        def plan() -> Run:
            argv = [CLI, "--state", str(applied), "plan", str(root), "--forecast", "off"]
            return run_process(argv, env=env, ok=(0, 1))  # a changed URL is blocked: exit 1

        print(f"{n} projects in {len(files)} files; changed: {target.name}; {load_note()}")
        samples: dict[str, list[Run]] = {}

        def sample(label: str, run: Run) -> None:
            samples.setdefault(label, []).append(run)

        for run in range(args.runs):
            shutil.rmtree(cache, ignore_errors=True)
            target.write_text(base)
            sample("floor", run_process([sys.executable, "-c", FLOOR, str(root)]))
            sample("start-up", run_process([sys.executable, "-c", START_UP]))
            sample("cold", plan())  # fills the cache, indexes the state
            sample("warm", plan())
            for label, change in CHANGES.items():
                target.write_text(change(base, run))
                one = [sys.executable, "-c", ONE_FILE_FLOOR, str(target)]
                sample(f"floor {label}", run_process(one))
                sample(label, plan())
                target.write_text(base)
        print(f"after: {load_note()}")
    floor, cold, warm = (median(samples[k]) for k in ("floor", "cold", "warm"))
    rows = [
        (f"floor: libyaml, all {len(files)} files", f"{floor.seconds:.2f} s", "", "", ""),
        (
            "plan, applied state, cold",
            f"{cold.seconds:.2f} s, {cold.rss_mb:.0f} MB",
            f"{floor.seconds:.2f} s",
            f"{cold.seconds / floor.seconds:.2f}x",
            "<= 1.2x",
        ),
        (
            "plan, unchanged files",
            f"{warm.seconds:.3f} s, {warm.rss_mb:.0f} MB",
            f"{floor.seconds:.2f} s",
            f"{warm.seconds / floor.seconds:.2f}x",
            "",
        ),
    ]
    start = median(samples["start-up"])
    one_file = median([r for label in CHANGES for r in samples[f"floor {label}"]])
    rows.append(
        (
            "start-up: the plan command's imports",
            f"{start.seconds:.3f} s, {start.rss_mb:.0f} MB",
            f"{one_file.seconds:.3f} s (1 file)",
            f"{start.seconds / one_file.seconds:.2f}x",
            "",
        )
    )
    for label in CHANGES:
        one, got = median(samples[f"floor {label}"]), median(samples[label])
        rows.append(
            (
                f"plan after {label} (1 file)",
                f"{got.seconds:.3f} s, {got.rss_mb:.0f} MB",
                f"{one.seconds:.3f} s (1 file)",
                f"{got.seconds / one.seconds:.2f}x",
                "<= 2x",
            )
        )
    print_table(rows)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
