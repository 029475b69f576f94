"""Plan cost whatever the workspace's split into files (issue #29), each run in a fresh process:

    python benchmarks/workspace_shape.py [--projects 10000] [--runs 3]

The same projects (benchmarks/workload.py) in 1, 4 and 100 files, planned cold (empty
workspace cache) against their fully applied state. Plan time should not depend on the split:
the ratio column compares each split with 100 files. Prints medians with peak RSS.
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
from plan_scale import prepare
from workload import ENV

FILES = (1, 4, 100)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    n = args.projects
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        cache = tmp / "cache"
        env = {**os.environ, **ENV, "XDG_CACHE_HOME": str(cache)}
        shapes = {}
        for files in FILES:
            root, applied = prepare(tmp / f"in-{files}", n, -(-n // files))
            shapes[files] = (root, applied)
        print(f"{n} projects; {load_note()}")
        samples: dict[int, list[Run]] = {}
        # Rounds of every shape in turn, so that a busy moment weighs on all of them alike.
        for _ in range(args.runs):
            for files, (root, applied) in shapes.items():
                shutil.rmtree(cache, ignore_errors=True)
                argv = [CLI, "--state", str(applied), "plan", str(root)]
                samples.setdefault(files, []).append(run_process(argv, env=env))
        print(f"after: {load_note()}")
    runs = {files: median(samples[files]) for files in FILES}
    base = runs[100].seconds
    print_table(
        [
            (
                f"plan {n}, {files} file{'s' if files > 1 else ''}, applied state, cold",
                f"{run.seconds:.2f} s, {run.rss_mb:.0f} MB",
                f"{base:.2f} s",
                f"{run.seconds / base:.2f}x",
                "<= 1.2x",
            )
            for files, run in runs.items()
        ]
    )


if __name__ == "__main__":
    main()
