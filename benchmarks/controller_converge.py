"""The controller at scale, run by hand:

    python benchmarks/controller_converge.py [--workspaces 50] [--projects 20] [--rate 20]
        [--job-seconds 0.5] [--soak 180]

One `descript-iac serve` watching W local workspaces of P projects (one import and one agent
step each) against the emulator throttled to RATE requests per second. Prints the time until
every workspace has an applied run against two bounds: the rate bound (the job POSTs at RATE per
second) and the chain bound (an import, then its step). Then a soak: every 10 s one workspace
gets a new step (a new run), and the controller's RSS is sampled; prints the slope.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from descript_iac.emulator import EmulatorConfig
from descript_iac.emulator.faults import Faults
from descript_iac.emulator.server import make_backend, start_background

TOKEN = "bench-token-0123456789"


def workspace(w: int, projects: int, extra: int = 0) -> str:
    text = "version: 1\nprojects:\n"
    for p in range(projects):
        text += (
            f"  ep{p}:\n    name: W{w} episode {p}\n    media:\n"
            f'      host.wav: {{url: "https://cdn.example.com/w{w}/ep{p}.wav"}}\n'
            f"    steps:\n      - {{id: clean, prompt: Remove filler words}}\n"
        )
        for e in range(extra if p == 0 else 0):
            text += f"      - {{id: extra{e}, prompt: Extra pass {e}}}\n"
    return text


def get(url: str) -> object:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workspaces", type=int, default=50)
    parser.add_argument("--projects", type=int, default=20)
    parser.add_argument("--rate", type=int, default=20)
    parser.add_argument("--job-seconds", type=float, default=0.5)
    parser.add_argument("--soak", type=float, default=180.0)
    args = parser.parse_args()
    faults = Faults(api_level="2026", rate_limit=args.rate, rate_window=1.0)
    config = EmulatorConfig(tokens=(TOKEN,), job_seconds=args.job_seconds, faults=faults)
    emulator = start_background(make_backend(config, None, False))
    with tempfile.TemporaryDirectory() as name:
        root = Path(name)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        lines = [f"listen: 127.0.0.1:{port}", "data_dir: data", "fetch_interval: 2",
                 "workspaces:"]  # fmt: skip
        for w in range(args.workspaces):
            (root / f"w{w}").mkdir()
            (root / f"w{w}" / "main.yaml").write_text(workspace(w, args.projects))
            lines.append(f"  w{w}: {{dir: w{w}}}")
        (root / "controller.yaml").write_text("\n".join(lines) + "\n")
        env = {**os.environ, "DESCRIPT_API_URL": emulator.base_url, "DESCRIPT_API_TOKEN": TOKEN,
               "HOME": str(root), "XDG_CACHE_HOME": str(root / "cache")}  # fmt: skip
        started = time.monotonic()
        serve = subprocess.Popen(
            [sys.executable, "-m", "descript_iac", "serve", "controller.yaml"],
            cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            while True:
                time.sleep(0.5)
                try:
                    runs = get(f"http://127.0.0.1:{port}/api/runs")["runs"]  # type: ignore[index]
                except OSError:
                    continue
                done = {r["workspace"] for r in runs if r["status"] == "applied"}
                if len(done) == args.workspaces:
                    break
                if any(r["status"] == "failed" for r in runs):
                    sys.exit(f"a run failed: {[r for r in runs if r['status'] == 'failed']}")
            converge = time.monotonic() - started
            jobs = args.workspaces * args.projects * 2
            rate_bound = jobs / args.rate
            chain_bound = 2 * args.job_seconds
            print(f"{args.workspaces} workspaces x {args.projects} projects: {jobs} jobs")
            print(f"converged in {converge:.1f} s; rate bound {rate_bound:.1f} s "
                  f"({converge / rate_bound:.2f}x), chain bound {chain_bound:.1f} s")  # fmt: skip
            print(f"RSS after converging: {rss_mb(serve.pid):.1f} MB")
            samples = []
            soak_start = time.monotonic()
            n = 0
            while time.monotonic() - soak_start < args.soak:
                n += 1
                w = n % args.workspaces
                (root / f"w{w}" / "main.yaml").write_text(workspace(w, args.projects, extra=n))
                time.sleep(10)
                samples.append((time.monotonic() - soak_start, rss_mb(serve.pid)))
            if len(samples) >= 2:
                (t0, m0), (t1, m1) = samples[0], samples[-1]
                slope = (m1 - m0) / ((t1 - t0) / 60)
                print(f"soak {args.soak:.0f} s, {n} new runs: RSS {m0:.1f} -> {m1:.1f} MB, "
                      f"slope {slope:+.2f} MB/min")  # fmt: skip
        finally:
            serve.terminate()
            serve.wait(60)
            emulator.stop()


if __name__ == "__main__":
    main()
