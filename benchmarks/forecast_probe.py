"""Benchmark, run by hand: what the cost forecast adds to a plan (issue #23). Prints figures.

    python benchmarks/forecast_probe.py [--items 1000] [--latency 0.02] [--runs 3]

A workspace of `--items` new projects, each importing one media file (a third WAV, a third MP3,
a third MP4 with its `moov` box at the end behind 200 KB of media data, so that it takes two
range requests), served by a local media host (tests/media/server.py: a threaded http.server
with Range support, ETags) that waits `--latency` seconds before each answer, as a host some
way off would. `descript-iac plan --format json` runs in a fresh process:

- `--forecast off` (no request at all),
- `--forecast on` with a cold media cache (a new, empty `XDG_CACHE_HOME`): every file probed,
- `--forecast on` with the warm cache of the run before: one request a file (its first block,
  which gives the ETag and length the cache is keyed by), no parsing.

Each row is the median of `--runs` runs; the added time is the forecast's. The media host
counts the requests it answered and the most that waited for their answer at once (the
probes run in parallel, `workspace/forecasting.py` PARALLEL at a time; with `--latency 0` the
wait is too short to catch them together), and the forecast's media total is
checked against the files' own durations (exact, none unknown).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import mutagen

from descript_iac.workspace.forecasting import DEADLINE, PARALLEL
from tests.media import files
from tests.media.server import MediaHost

CLI = str(Path(sys.executable).with_name("descript-iac"))
KINDS = 30  # distinct files; every project has its own URL (and its own cache entry)


def media_files() -> dict[str, bytes]:
    made: dict[str, bytes] = {}
    for i in range(KINDS // 3):
        made[f"k{i}.wav"] = files.wav(1 + i * 0.75)
        made[f"k{i}.mp3"] = files.mp3(2 + i * 1.5)
        made[f"k{i}.mp4"] = files.mp4(30 + i * 61.25, moov_at_end=True, padding=200_000)
    return made


def item(i: int) -> tuple[str, str]:
    """Project i's file: (its own path on the host, the distinct file it serves)."""
    kind = ("wav", "mp3", "mp4")[i % 3]
    return f"ep{i:05d}.{kind}", f"k{(i // 3) % (KINDS // 3)}.{kind}"


def duration(data: bytes) -> float:
    parsed = mutagen.File(io.BytesIO(data))
    assert parsed is not None
    return float(parsed.info.length)


def write_workspace(root: Path, url: str, items: int) -> None:
    root.mkdir(parents=True, exist_ok=True)
    lines = ["version: 1", "projects:"]
    for i in range(items):
        path, _ = item(i)
        kind = path.rpartition(".")[2]
        lines += [
            f"  ep{i:05d}:",
            "    media:",
            f"      host.{kind}: {{url: '{url}/files/{path}?X-Amz-Signature=bench'}}",
        ]
    (root / "main.yaml").write_text("\n".join(lines) + "\n")


class Counting:
    """Wraps the media host's handler: the most requests waiting for their answer at once."""

    def __init__(self, host: MediaHost, latency: float) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0
        handler: Any = host.server.RequestHandlerClass
        original = handler.do_GET
        counter = self

        def do_get(handler_self: Any) -> None:
            # Counted from the request's arrival to the moment its answer starts: a client
            # cannot have two requests waiting for an answer at once, so the peak is how many
            # probes were running (counting up to the end of the answer would overlap a
            # client's next request, sent on another connection, with the last write's end).
            with counter.lock:
                counter.now += 1
                counter.peak = max(counter.peak, counter.now)
            try:
                time.sleep(latency)
            finally:
                with counter.lock:
                    counter.now -= 1
            original(handler_self)

        handler.do_GET = do_get

    def reset(self) -> None:
        self.peak = 0


def plan(root: Path, home: Path, forecast: str) -> tuple[float, dict[str, Any] | None]:
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "NO_COLOR": "1",
    }
    argv = [CLI, "--state", str(home / "state.json"), "plan", str(root), "--format", "json"]
    start = time.perf_counter()
    done = subprocess.run(
        [*argv, "--forecast", forecast], env=env, capture_output=True, text=True, check=False
    )
    took = time.perf_counter() - start
    if done.returncode not in (0, 2):
        raise SystemExit(f"plan failed ({done.returncode}):\n{done.stderr}")
    return took, json.loads(done.stdout).get("forecast")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per answer")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    made = media_files()
    host = MediaHost()
    host.files.update({path: made[kind] for path, kind in map(item, range(args.items))})
    counting = Counting(host, args.latency)
    host.start()
    expected = sum(duration(made[item(i)[1]]) for i in range(args.items))
    rows: dict[str, list[float]] = {"off": [], "cold": [], "warm": []}
    checks: list[str] = []
    peaks: dict[str, int] = {"cold": 0, "warm": 0}
    requests: dict[str, list[int]] = {"cold": [], "warm": []}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "ws"
            write_workspace(root, host.url, args.items)
            for run in range(args.runs):
                home = Path(tmp) / f"home-{run}"
                home.mkdir()
                took, found = plan(root, home, "off")
                assert found is None
                rows["off"].append(took)
                for row in ("cold", "warm"):  # the same cache directory: warm after cold
                    before = sum(host.requests.values())
                    counting.reset()
                    took, found = plan(root, home, "on")
                    assert found is not None
                    rows[row].append(took)
                    requests[row].append(sum(host.requests.values()) - before)
                    peaks[row] = max(peaks[row], counting.peak)
                    total = found["media_seconds"]["expected"]
                    checks.append(
                        f"{row} run {run + 1}: {found['unknown_media']} unknown, media total "
                        f"{total:,.2f} s ({'exact' if abs(total - expected) < 1e-6 else 'OFF'})"
                    )
    finally:
        host.stop()
    off = statistics.median(rows["off"])
    print(
        f"plan of {args.items} new projects, one media file each, host latency "
        f"{args.latency * 1000:.0f} ms an answer; medians of {args.runs} runs; "
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    )
    print("| plan | seconds | added by the forecast | requests to the media host | at once |")
    print("|---|---|---|---|---|")
    print(f"| --forecast off | {off:.2f} | - | 0 | - |")
    for row, label in (("cold", "on, cold cache"), ("warm", "on, warm cache")):
        seconds = statistics.median(rows[row])
        print(
            f"| --forecast {label} | {seconds:.2f} | +{seconds - off:.2f} "
            f"({(seconds - off) / args.items * 1000:.1f} ms an item) | "
            f"{statistics.median(requests[row]):.0f} | {peaks[row]} (bound {PARALLEL}) |"
        )
    print(f"the forecast's time budget for all probes: {DEADLINE:.0f} s")
    print(f"the files' own durations add up to {expected:,.2f} s")
    for line in checks:
        print(f"  {line}")


if __name__ == "__main__":
    main()
