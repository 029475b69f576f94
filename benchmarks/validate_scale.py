"""`validate` at scale against the libyaml floor (issue #22), each run in a fresh process:

    python benchmarks/validate_scale.py [--projects 10000] [--per-file 100] [--runs 3]

`validate` with an empty workspace cache checks every file's shape against the JSON Schema
(config/validation/schema.py) and builds no models for valid files; this measures that path
against the floor of plan_scale.py (interpreter, `import click, pydantic, ruamel.yaml`, a
libyaml C safe load of the same files). Prints medians with the peak RSS of each process.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import CLI, Run, load_note, median, print_table, run_process
from plan_scale import FLOOR
from workload import ENV, write_workspace


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--per-file", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    n = args.projects
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        root = tmp / f"ws-{n}"
        write_workspace(root, n, args.per_file)
        cache = tmp / "cache"
        env = {**os.environ, **ENV, "XDG_CACHE_HOME": str(cache)}
        print(f"{n} projects in {len(list(root.iterdir()))} files; {load_note()}")
        samples: dict[str, list[Run]] = {"floor": [], "cold": [], "warm": []}
        for _ in range(args.runs):  # rounds, so a busy moment weighs on all alike
            samples["floor"].append(run_process([sys.executable, "-c", FLOOR, str(root)]))
            shutil.rmtree(cache, ignore_errors=True)
            samples["cold"].append(run_process([CLI, "validate", str(root)], env=env))
            samples["warm"].append(run_process([CLI, "validate", str(root)], env=env))
        floor, cold, warm = (median(samples[k]) for k in ("floor", "cold", "warm"))
        print(f"after: {load_note()}")

    def row(label: str, run: Run, target: str) -> tuple[str, str, str, str, str]:
        ratio = f"{run.seconds / floor.seconds:.2f}x"
        return (
            label,
            f"{run.seconds:.2f} s, {run.rss_mb:.0f} MB",
            f"{floor.seconds:.2f} s",
            ratio,
            target,
        )

    print_table(
        [
            (
                f"floor: libyaml safe load, {n}",
                f"{floor.seconds:.2f} s, {floor.rss_mb:.0f} MB",
                "",
                "",
                "",
            ),
            row(f"validate {n}, cold", cold, "<= 1.3x"),
            row(f"validate {n}, cached", warm, "< 1.0x"),
        ]
    )


if __name__ == "__main__":
    main()
