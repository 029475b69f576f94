"""Apply at the API's own limit (issue #13), against the emulator in its own process:

    python benchmarks/apply_throughput.py [--projects 200 2000] [--job-seconds 1]
        [--rate-limit 20] [--rate-window 1] [--naive-projects 5] [--parallelism N]
        [--api-level seed|2026] [--lose-response-rate 0.02] [--error-rate 0.01]
        [--commit-span 2s] [--history-lag 1s] [--log-dir DIR]

With the fault options (issue #26's profile: 2 % lost replies, 1 % 5xx), every lost reply is a
job in doubt that apply must find again, and every 5xx a retry; the duplicates count is the proof
that exactly once held. `--commit-span`/`--history-lag` are passed to apply (how long a job
in doubt is waited for: with the defaults, 300 s + 120 s, each create in doubt holds every other
create for 7 minutes); `--log-dir` keeps apply's output. Apply runs with `--forecast off`: the
media URLs here do not resolve, and probing them is no part of apply's bound.

Each workload is N projects of 1 import + 2 agent steps, applied by the real CLI
(`descript-iac apply --auto-approve`, a fresh process, timed end to end) against
`descript-iac emulator serve --rate-limit R --rate-window W --job-seconds S`. Printed per N:

- the lower bound `max(longest chain x job duration, requests needed / allowed rate)`, where the
  requests needed are one POST per job, one `GET /v1/jobs` page per 100 jobs (each job's end
  must be read once) and the one `GET /v1/status` every apply starts with;
- the measured time and its ratio to the bound (target: at most 1.1x);
- the naive loop (one job at a time, `GET /v1/jobs/{id}` every 2 s until it stops) timed on
  `--naive-projects` projects in the same run and scaled to N (it is strictly sequential, so its
  time is linear in the number of jobs), and the speed-up over it (target: at least 30x);
- the seconds creates in doubt held the create gate (from apply's summary line "Creates waited
  N s on K job(s) in doubt"): every project creation waits while one create's outcome is unknown;
- the 429s the emulator answered (target: at most 1 % of the requests) and the duplicates found
  through `GET /_emulator/projects` (target: 0; a duplicate is any job beyond one import and one
  run of each prompt per project, or any project beyond one per address).

`PYTHONPATH=/path/to/other/checkout` measures another version of descript-iac the same way.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import load_note

TOKEN = "bench-token"
CHAIN = 3  # 1 import + 2 steps
PROJECT = """  ep-{i:05d}:
    name: "Episode {i}"
    media:
      host.wav: {{url: "https://cdn.example.com/ep{i}/host.wav"}}
    compositions:
      - name: Full episode
        clips: [{{media: host.wav}}]
    steps:
      - {{id: clean, prompt: Remove filler words}}
      - {{id: caps, prompt: Add captions}}
"""
PROMPTS = ("Remove filler words", "Add captions")
NAIVE_POLL = 2.0


@dataclass
class Measured:
    projects: int
    seconds: float
    requests: int
    throttled: int
    duplicates: int
    missing: int
    ok: bool
    gate_held: float  # seconds creates in doubt held the create gate (apply's summary)
    creates_in_doubt: int


class Emulator:
    """`descript-iac emulator serve` in a child process, on a free loopback port."""

    def __init__(
        self, job_seconds: float, rate_limit: int, rate_window: float, faults: list[str]
    ) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.root = f"http://127.0.0.1:{port}"
        argv = [
            *("emulator", "serve", "--port", str(port), "--token", TOKEN),
            *("--job-seconds", str(job_seconds), "--seed", "1"),
            *("--rate-limit", str(rate_limit), "--rate-window", str(rate_window)),
            *faults,
        ]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "descript_iac", *argv],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{self.root}/openapi.json", timeout=1)
                return
            except httpx.TransportError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.process.kill()
                    raise SystemExit("the emulator did not start") from None
                time.sleep(0.1)

    def reset(self) -> None:
        httpx.post(f"{self.root}/_emulator/reset").raise_for_status()

    def without_faults(self) -> None:
        """No lost replies or 5xx until the next reset (the naive loop has no retries)."""
        faults = {"lose_response_rate": 0, "error_rate": 0}
        httpx.post(f"{self.root}/_emulator/faults", json=faults).raise_for_status()

    def stats(self) -> dict[str, int]:
        return dict(httpx.get(f"{self.root}/_emulator/stats").json())

    def projects(self) -> list[dict[str, Any]]:
        return list(httpx.get(f"{self.root}/_emulator/projects", timeout=60).json()["projects"])

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def duplicates(emulator: Emulator, names: list[str]) -> tuple[int, int]:
    """(jobs or projects beyond exactly one each, jobs missing) on the emulator."""
    by_name: dict[str, list[dict[str, Any]]] = {}
    for project in emulator.projects():
        by_name.setdefault(project["name"], []).append(project)
    extra = missing = 0
    for name in names:
        found = by_name.get(name, [])
        extra += max(0, len(found) - 1)
        jobs = Counter(j["prompt"] or j["job_type"] for p in found for j in p["jobs"])
        want = Counter({"import/project_media": 1, **dict.fromkeys(PROMPTS, 1)})
        extra += sum((jobs - want).values())
        missing += sum((want - jobs).values())
    return extra, missing


def measure_apply(
    emulator: Emulator, tmp: Path, projects: int, parallelism: int | None, timing: list[str]
) -> Measured:
    emulator.reset()
    root = tmp / f"ws-{projects}"
    root.mkdir()
    body = "".join(PROJECT.format(i=i) for i in range(projects))
    (root / "main.yaml").write_text(f"version: 1\nprojects:\n{body}")
    env = {
        **os.environ,
        "DESCRIPT_API_URL": f"{emulator.root}/v1",
        "DESCRIPT_API_TOKEN": TOKEN,
        "XDG_CACHE_HOME": str(tmp / f"cache-{projects}"),
        "NO_COLOR": "1",
    }
    argv = [sys.executable, "-m", "descript_iac", "--state", str(tmp / f"state-{projects}.json")]
    # --forecast off: the forecast probes every media URL first, and the benchmark's URLs
    # (cdn.example.com) do not resolve here: up to its 30 s deadline of failed lookups that a
    # user's reachable host would not cost, and that are no part of apply's bound.
    argv += [*timing, "apply", str(root), "--auto-approve", "--forecast", "off"]
    if parallelism:
        argv += ["--parallelism", str(parallelism)]
    before = emulator.stats()
    with open(tmp / f"apply-{projects}.log", "w") as log:
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
        seconds = time.perf_counter() - start
    after = emulator.stats()
    extra, missing = duplicates(emulator, [f"Episode {i}" for i in range(projects)])
    output = (tmp / f"apply-{projects}.log").read_text()
    if done.returncode != 0:
        print(output[-3000:], file=sys.stderr)
    gate = re.search(r"Creates waited (\d+) s on (\d+) job", output)
    return Measured(
        projects,
        seconds,
        after.get("requests", 0) - before.get("requests", 0),
        after.get("rate_limited", 0) - before.get("rate_limited", 0),
        extra,
        missing,
        done.returncode == 0,
        float(gate.group(1)) if gate else 0.0,
        int(gate.group(2)) if gate else 0,
    )


def naive_loop(emulator: Emulator, projects: int) -> float:
    """One job at a time, polled every 2 s until it stops: the loop a script would write.
    Returns the seconds per job, on a perfect network: the loop has no retries, so the fault
    profile is off while it runs."""
    emulator.reset()
    emulator.without_faults()
    base = f"{emulator.root}/v1"
    headers = {"Authorization": f"Bearer {TOKEN}"}

    def call(client: httpx.Client, method: str, path: str, **kw: Any) -> dict[str, Any]:
        while True:
            reply = client.request(method, f"{base}/{path}", headers=headers, **kw)
            if reply.status_code == 429:
                time.sleep(float(reply.headers.get("retry-after", "1")))
                continue
            reply.raise_for_status()
            return dict(reply.json())

    def run(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
        job_id = call(client, "POST", path, json=body)["job_id"]
        while True:
            time.sleep(NAIVE_POLL)
            job = call(client, "GET", f"jobs/{job_id}")
            if job["job_state"] in ("stopped", "cancelled"):
                return job

    start = time.perf_counter()
    with httpx.Client(timeout=30) as client:
        for i in range(projects):
            media = {"host.wav": {"url": f"https://cdn.example.com/ep{i}/host.wav"}}
            imported = run(
                client,
                "jobs/import/project_media",
                {
                    "project_name": f"Naive {i}",
                    "add_media": media,
                    "add_compositions": [
                        {"name": "Full episode", "clips": [{"media": "host.wav"}]}
                    ],
                },
            )
            for prompt in PROMPTS:
                run(client, "jobs/agent", {"project_id": imported["project_id"], "prompt": prompt})
    return (time.perf_counter() - start) / (projects * CHAIN)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, nargs="+", default=[200, 2000])
    parser.add_argument("--job-seconds", type=float, default=1.0)
    parser.add_argument("--rate-limit", type=int, default=20)
    parser.add_argument("--rate-window", type=float, default=1.0)
    parser.add_argument("--naive-projects", type=int, default=5)
    parser.add_argument("--parallelism", type=int, default=None, help="passed to apply")
    parser.add_argument("--api-level", choices=("seed", "2026"), default="seed")
    parser.add_argument("--lose-response-rate", type=float, default=0.0)
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--commit-span", default=None, help="passed to apply (e.g. 2s)")
    parser.add_argument("--history-lag", default=None, help="passed to apply (e.g. 1s)")
    parser.add_argument("--log-dir", type=Path, default=None, help="keep apply's output here")
    args = parser.parse_args()
    rate = args.rate_limit / args.rate_window
    faults = ["--api-level", args.api_level]
    if args.lose_response_rate:
        faults += ["--lose-response-rate", str(args.lose_response_rate)]
    if args.error_rate:
        faults += ["--error-rate", str(args.error_rate)]
    timing = []
    if args.commit_span is not None:
        timing += ["--commit-span", args.commit_span]
    if args.history_lag is not None:
        timing += ["--history-lag", args.history_lag]
    emulator = Emulator(args.job_seconds, args.rate_limit, args.rate_window, faults)
    print(
        f"emulator: {args.job_seconds:g} s jobs, {args.rate_limit} requests per "
        f"{args.rate_window:g} s, API level {args.api_level}, lost replies "
        f"{args.lose_response_rate:.0%}, 5xx {args.error_rate:.0%}; {load_note()}",
        flush=True,
    )
    try:
        per_job = naive_loop(emulator, args.naive_projects)
        print(
            f"naive loop: {per_job:.2f} s per job ({args.naive_projects} projects, "
            f"{args.naive_projects * CHAIN} jobs)",
            flush=True,
        )
        results = []
        with tempfile.TemporaryDirectory() as name:
            for n in args.projects:
                results.append(measure_apply(emulator, Path(name), n, args.parallelism, timing))
                if args.log_dir:
                    args.log_dir.mkdir(parents=True, exist_ok=True)
                    log = Path(name) / f"apply-{n}.log"
                    (args.log_dir / log.name).write_text(log.read_text())
                print(f"  {n} projects: {results[-1].seconds:.1f} s", flush=True)
    finally:
        emulator.stop()
    print(f"after: {load_note()}")
    header = (
        "projects",
        "jobs",
        "measured",
        "lower bound",
        "ratio",
        "naive loop",
        "speed-up",
        "429s",
        "duplicates",
        "gate held",
    )
    rows = []
    for m in results:
        jobs = m.projects * CHAIN
        needed = jobs + math.ceil(jobs / 100) + 1
        bound = max(CHAIN * args.job_seconds, needed / rate)
        naive = per_job * jobs
        rows.append(
            (
                str(m.projects),
                str(jobs),
                f"{m.seconds:.1f} s" + ("" if m.ok else " (failed)"),
                f"{bound:.1f} s",
                f"{m.seconds / bound:.2f}x",
                f"{naive:.0f} s",
                f"{naive / m.seconds:.0f}x",
                f"{m.throttled} of {m.requests} ({100 * m.throttled / max(1, m.requests):.1f} %)",
                str(m.duplicates) + (f" ({m.missing} missing)" if m.missing else ""),
                f"{m.gate_held:.0f} s ({m.creates_in_doubt} creates in doubt)",
            )
        )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    faulty = args.lose_response_rate or args.error_rate
    ratio = "1.3x (under faults, at the 2026 level)" if faulty else "1.1x"
    print(f"targets: ratio <= {ratio}, speed-up >= 30x, 429s <= 1 %, 0 duplicates")


if __name__ == "__main__":
    main()
