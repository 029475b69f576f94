"""Benchmark, run by hand: the quickstart's apply against the sum of its jobs' run times
(issue #26: a small apply at its chain bound). Prints figures.

    python benchmarks/quickstart_apply.py [--runs 3]

Each round applies examples/quickstart to a new state against the embedded emulator (its
three jobs run one after another: an import, then two agent steps), in a fresh process with
one cache directory kept across rounds, as a user's machine keeps it. The apply's own time
(its summary line: first POST to last job seen over) is set against the sum of the jobs'
`stopped_at - created_at` (the emulator's timestamps). The first round has learnt nothing yet:
its first poll of each job type comes at the base interval; the next rounds use the run times
the job cache kept.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "descript_iac"]


def _seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        shutil.copytree(REPO / "examples", tmp / "examples")
        env = {**os.environ, "HOME": str(tmp), "XDG_CACHE_HOME": str(tmp / "cache")}
        print("| round | apply | sum of job run times | ratio |")
        print("|---|---|---|---|")
        for round_ in range(1, args.runs + 1):
            shutil.rmtree(tmp / "state", ignore_errors=True)
            apply = subprocess.run(
                [*CLI, "apply", "examples/quickstart", "--emulator", "--auto-approve"],
                cwd=tmp,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            found = re.search(r"in (\d+(?:\.\d+)?)s\.", apply.stdout)
            assert found, apply.stdout
            elapsed = float(found.group(1))
            listed = subprocess.run(
                [*CLI, "jobs", "list", "--emulator", "--json"],
                cwd=tmp,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            jobs = [json.loads(line) for line in listed.stdout.splitlines() if line.strip()]
            total = sum(_seconds(j["stopped_at"]) - _seconds(j["created_at"]) for j in jobs)
            print(f"| {round_} | {elapsed:.1f} s | {total:.2f} s | {elapsed / total:.2f}x |")


if __name__ == "__main__":
    main()
