"""All the performance tables of the README, from this machine:

    python benchmarks/run.py [--projects 10000] [--runs 3]

Runs `plan_scale.py` (plan at scale against the libyaml floor), `state_codec.py` (reading and
writing the state, one journal event) and `startup.py` (`--help` and `validate` against the
dependencies' import time), each printing its table. Apply throughput is measured on its own:
`python benchmarks/apply_emulator.py`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    scale = ["--projects", str(args.projects), "--runs", str(args.runs)]
    for script, extra in (
        ("plan_scale.py", scale),
        ("state_codec.py", scale),
        ("startup.py", ["--runs", str(max(args.runs, 10))]),
    ):
        print(f"\n## {script}\n", flush=True)
        subprocess.run([sys.executable, str(HERE / script), *extra], check=True)


if __name__ == "__main__":
    main()
