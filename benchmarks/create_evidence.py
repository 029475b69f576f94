"""What evidence before any create costs (issue #20): a workspace applied, its state lost, and a
drive history of ~1,000 jobs; then `apply` (which asks the drive before any create, and stops).

    python benchmarks/create_evidence.py [--jobs 1000] [--level seed|2026]

Prints the API requests and wall time of: `apply` with the state lost and a cold job cache, the
same with the cache warm, and `apply` with nothing to create (state present: no extra call).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.builders import TOKEN, run_cli, start_emulator, write_workspace

WORKSPACE = """
version: 1
projects:
  ep:
    name: Episode 1
    media:
      host.wav: {url: "https://cdn.example.com/ep1/host.wav"}
    compositions:
      - name: Full
        clips: [{media: host.wav}]
    steps:
      - id: clean
        prompt: Remove filler words
  script:
    name: Coffee script
    steps:
      - id: write
        prompt: Write a script about coffee
"""
APPLY = ("--auto-approve", "--poll-interval", "0.05")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--level", choices=("seed", "2026"), default="seed")
    args = parser.parse_args()
    running = start_emulator(job_seconds=0.0, api_level=args.level)
    root = running.base_url.removesuffix("/v1")
    with tempfile.TemporaryDirectory() as name:
        base = Path(name)
        env = {
            "DESCRIPT_API_URL": running.base_url,
            "DESCRIPT_API_TOKEN": TOKEN,
            "DESCRIPT_IAC_COMMIT_SPAN": "1",
            "DESCRIPT_IAC_HISTORY_LAG": "0",
            "HOME": str(base / "home"),
            "XDG_CACHE_HOME": str(base / "home" / ".cache"),
        }
        ws = write_workspace(base / "ws", {"main.yaml": WORKSPACE})
        state = base / "ws.json"
        assert run_cli("apply", str(ws), "--state", str(state), *APPLY, env=env).exit_code == 0
        with httpx.Client(base_url=root) as http:
            http.post("/_emulator/foreign", json={"kind": "prompt_create"}).raise_for_status()
            for number in range(args.jobs - 3):
                kind = ("import", "agent", "prompt_create")[number % 3]
                http.post("/_emulator/foreign", json={"kind": kind}).raise_for_status()

            def measured(label: str, state_file: Path, home: str) -> None:
                run_env = {**env, "HOME": home, "XDG_CACHE_HOME": f"{home}/.cache"}
                before = http.get("/_emulator/stats").json().get("requests", 0)
                start = time.perf_counter()
                result = run_cli("apply", str(ws), "--state", str(state_file), *APPLY, env=run_env)
                took = time.perf_counter() - start
                after = http.get("/_emulator/stats").json().get("requests", 0)
                print(
                    f"{args.level}: {label}: exit {result.exit_code}, {after - before} API "
                    f"requests, {took:.2f}s: {result.output.splitlines()[0][:90]}"
                )

            jobs = len(list(_all_jobs(http, running.base_url)))
            print(f"{args.level}: history of {jobs} jobs")
            measured("apply, nothing to create (state present)", state, env["HOME"])
            runner = str(base / "runner")  # a fresh HOME: no record of the state, no cache
            measured("apply, state lost, fresh HOME, cold job cache", base / "lost.json", runner)
            measured("apply, state lost, warm job cache", base / "lost.json", runner)
    running.stop()


def _all_jobs(http: httpx.Client, base_url: str):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {TOKEN}"}
    cursor = None
    while True:
        params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
        page = http.get(f"{base_url}/jobs", params=params, headers=headers).json()
        yield from page["data"]
        cursor = page.get("pagination", {}).get("next_cursor")
        if not cursor:
            return


if __name__ == "__main__":
    main()
