"""Benchmark, run by hand: plan and a no-op apply at scale, with the state in a local file and
in PostgreSQL, paired (issue #29). Prints figures.

    python benchmarks/state_backends_cli.py [--projects 10000] [--runs 3] [--url postgresql://...]

Each measure is a fresh `descript-iac` process (as a user or a CI runner starts it), the two
stores run one after the other in each round so a busy moment of the machine weighs on both.
The workspace cache is warm (the plan a user repeats): what differs is the state's read, and
for the apply its lock, journal and end. The apply runs against an emulator on a fixed port
(one drive across runs, as the real API is) and has nothing to send. Without --url a throwaway
PostgreSQL server is started (fsync on).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import CLI, Run, load_note, median, print_table, run_process
from plan_scale import prepare
from workload import ENV


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(port: int) -> None:
    for _ in range(200):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"the emulator did not start on port {port}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--url", default=os.environ.get("DESCRIPT_IAC_BENCH_PG_URL"))
    args = parser.parse_args()
    server = None
    url = args.url
    if url is None:
        from tests.postgres_server import start_postgres

        server = start_postgres(durable=True)
        url = server.new_database()
    try:
        with tempfile.TemporaryDirectory() as name:
            tmp = Path(name)
            root, applied = prepare(tmp, args.projects, 100)
            env = {**os.environ, **ENV, "XDG_CACHE_HOME": str(tmp / "cache"), "HOME": str(tmp)}
            local = ["--state", str(applied)]
            remote = ["--backend-url", url]
            subprocess.run(
                [CLI, *remote, "state", "push", str(applied), "--workspace", str(root), "--force"],
                env=env,
                check=True,
                capture_output=True,
            )
            port = _free_port()
            emulator = subprocess.Popen(
                [CLI, "emulator", "serve", "--port", str(port), "--token", "bench-token"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            env |= {
                "DESCRIPT_API_URL": f"http://127.0.0.1:{port}/v1",
                "DESCRIPT_API_TOKEN": "bench-token",
            }
            _wait_for(port)
            commands = {
                "plan": ["plan", str(root)],
                "apply (no-op)": ["apply", str(root), "--auto-approve"],
            }
            samples: dict[tuple[str, str], list[Run]] = {}
            for opts in (local, remote):  # warm the caches
                for argv in commands.values():
                    run_process([CLI, *opts, *argv], env=env, cwd=tmp)
            print(f"{args.projects} projects; {load_note()}")
            for _ in range(args.runs):
                for label, argv in commands.items():
                    for store, opts in (("local", local), ("postgresql", remote)):
                        run = run_process([CLI, *opts, *argv], env=env, cwd=tmp)
                        samples.setdefault((label, store), []).append(run)
            print(f"after: {load_note()}")
            emulator.terminate()
            emulator.wait()
    finally:
        if server is not None:
            server.stop()
    rows = []
    for label in ("plan", "apply (no-op)"):
        mine = median(samples[(label, "local")])
        theirs = median(samples[(label, "postgresql")])
        rows.append(
            (
                f"{label}, {args.projects}, PostgreSQL vs local",
                f"{theirs.seconds:.2f} s, {theirs.rss_mb:.0f} MB",
                f"{mine.seconds:.2f} s, {mine.rss_mb:.0f} MB",
                f"{theirs.seconds / mine.seconds:.2f}x",
                "<= 1.2x",
            )
        )
    print_table(rows)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
