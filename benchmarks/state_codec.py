"""Reading and writing the state document at scale (issue #13):

    python benchmarks/state_codec.py [--projects 10000] [--runs 5]

A fully applied state of N projects (5 media, 1 composition, 3 steps each) is written and read
through `LocalStateStore` (format 4: compact canonical JSON, one project per line; the write is
atomic and fsynced), each in a fresh process that has imported descript-iac and holds nothing
else (as a command does; the imports are not counted). For comparison in the same run: msgspec
parsing the same bytes into plain dicts (no checks, no records) in a fresh process, the old
format 1 (indented JSON) written and read by this release, and one journal event at several
state sizes (it must not grow with the state). Prints medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import msgspec
from measure import load_note, median_seconds, print_table
from workload import ENV, applied_state, write_workspace

from descript_iac.collector import paused
from descript_iac.config import load_workspace
from descript_iac.state import codec
from descript_iac.state.document import ProjectState, StateDocument
from descript_iac.state.events import parse_event
from descript_iac.state.store import LocalStateStore


def format_1_write(doc: StateDocument, path: Path) -> None:
    text = json.dumps(doc.to_json(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")


def journal_event(tmp: Path, projects: int, events: int = 200) -> float:
    store = LocalStateStore(tmp / f"journal-{projects}.json")
    doc = StateDocument()
    for i in range(projects):
        doc.projects[f"p{i}"] = ProjectState(project_id=str(i))
    store.commit(doc)
    with store.lock("bench"):
        store.begin(doc)
        samples = []
        for i in range(events):
            event = parse_event(
                {
                    "type": "intent_dropped",
                    "address": f"p{i % projects}",
                    "intent_id": "x",
                    "reason": "r",
                }
            )
            start = time.perf_counter()
            store.append(event)
            samples.append(time.perf_counter() - start)
        store.discard()
    return statistics.median(samples)


def child(path: Path, plain: bool) -> None:
    """One read and one write of the state at `path` in this fresh process (as a command
    does): prints the two times. `plain`: parse it into plain dicts with msgspec instead (the
    reference), and write nothing."""
    start = time.perf_counter()
    if plain:
        with paused():
            msgspec.json.decode(path.read_bytes())
        print(json.dumps({"read": time.perf_counter() - start, "write": 0.0}))
        return
    doc = LocalStateStore(path).read()
    read = time.perf_counter() - start
    start = time.perf_counter()
    LocalStateStore(path.with_name("copy.json")).commit(doc)
    write = time.perf_counter() - start
    print(json.dumps({"read": read, "write": write}))


def in_fresh_processes(runs: int, path: Path, plain: bool = False) -> tuple[float, float]:
    reads, writes = [], []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(path), *(["--plain"] if plain else [])],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        times = json.loads(out)
        reads.append(times["read"])
        writes.append(times["write"])
    return statistics.median(reads), statistics.median(writes)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", type=Path)
    parser.add_argument("--plain", action="store_true")
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.plain)
        return
    n = args.projects
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        write_workspace(tmp / "ws", n)
        doc = applied_state(load_workspace(tmp / "ws", {**os.environ, **ENV}))
        print(f"{n} projects; {load_note()}")
        store = LocalStateStore(tmp / "state.json")
        store.commit(doc)
        read, write = in_fresh_processes(args.runs, tmp / "state.json")
        plain, _ = in_fresh_processes(args.runs, tmp / "state.json", plain=True)
        size = (tmp / "state.json").stat().st_size
        raw = (tmp / "state.json").read_bytes()
        encode = median_seconds(args.runs, lambda: codec.encode_document(doc))
        decode = median_seconds(args.runs, lambda: codec.read_current(raw))
        old = tmp / "old.json"
        old_write = median_seconds(args.runs, lambda: format_1_write(doc, old))
        store_old = median_seconds(args.runs, lambda: LocalStateStore(old).read())
        old_size = old.stat().st_size
        journal = {p: journal_event(tmp, p) for p in (10, 1_000, n)}
        print(f"after: {load_note()}")
    mb = 2**20
    rows = [
        (
            f"write state, {n} projects (atomic, fsync)",
            f"{write:.3f} s",
            "0.5 s",
            f"{write / 0.5:.2f}x",
            "<= 1.0x",
        ),
        (
            f"read state, {n} projects",
            f"{read:.3f} s",
            "0.5 s",
            f"{read / 0.5:.2f}x",
            "<= 1.0x",
        ),
        ("  encoding alone (in a large process)", f"{encode:.3f} s", "", "", ""),
        ("  decoding alone (in a large process)", f"{decode:.3f} s", "", "", ""),
        (
            "  size, format 4 / format 1",
            f"{size / mb:.1f} MiB / {old_size / mb:.1f} MiB",
            "",
            "",
            "",
        ),
        ("  msgspec into plain dicts (fresh process)", f"{plain:.3f} s", "", "", ""),
        ("  write format 1 (indent=2, json.dumps)", f"{old_write:.3f} s", "", "", ""),
        ("  read a format-1 file with this release", f"{store_old:.3f} s", "", "", ""),
    ]
    base = journal[10]
    for projects, cost in journal.items():
        rows.append(
            (
                f"journal event (fsynced), state of {projects}",
                f"{cost * 1e6:.0f} us",
                f"{base * 1e6:.0f} us",
                f"{cost / base:.2f}x",
                "O(1)",
            )
        )
    print_table(rows)


if __name__ == "__main__":
    main()
