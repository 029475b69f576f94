"""Benchmark, run by hand: the state on PostgreSQL beside the local file store. Prints figures.

    python benchmarks/state_backends.py [--url postgresql://...]

Without --url (or $DESCRIPT_IAC_BENCH_PG_URL) it starts a throwaway server of its own (the
Debian `postgresql` binaries, fsync on, as a real server would run). For 100 and 10,000 applied
projects, on each store:

- one journal event (committed: fsynced file line, or one committed row);
- a plan's state read (what `plan` without --refresh costs: for PostgreSQL a new connection and
  its one query, the document and the journal in one statement);
- the commit at the end of an apply (fold the journal, write the document, bump the serial).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import median_seconds

from descript_iac.state.document import (
    ImportRecord,
    MediaRecord,
    ProjectState,
    StateDocument,
    StepRecord,
    copied,
)
from descript_iac.state.events import IntentDropped
from descript_iac.state.pgdatabase import Database
from descript_iac.state.postgres import PostgresStateStore
from descript_iac.state.store import LocalStateStore, StateStore

SIZES = (100, 10_000)


def applied_state(projects: int) -> StateDocument:
    """A state as an apply leaves it: per project an import of 5 media and 2 agent steps."""
    doc = StateDocument()
    for i in range(projects):
        media = {f"raw/{n}.wav": f"sha256:{uuid.uuid4().hex[:32]}" for n in "abcde"}
        doc.projects[f"ep-{i:05d}"] = ProjectState(
            project_id=str(uuid.uuid4()),
            created_by="import",
            import_=ImportRecord(
                job_id=str(uuid.uuid4()),
                job_state="stopped",
                status="success",
                media={n: MediaRecord(identity=d, status="success") for n, d in media.items()},
                media_seconds_used=1800.0,
            ),
            steps=[
                StepRecord(
                    id=step,
                    digest=f"sha256:{uuid.uuid4().hex[:32]}",
                    job_id=str(uuid.uuid4()),
                    job_state="stopped",
                    status="success",
                    agent_response="Done! I've made the edit.",
                    ai_credits_used=9.0,
                )
                for step in ("cleanup", "captions")
            ],
        )
    return doc


def measure(make: Callable[[], StateStore], doc: StateDocument) -> dict[str, float]:
    store = make()
    with store.lock("bench"):
        store.overwrite(doc)
    fresh = copied(doc)
    with store.lock("bench"):
        store.begin(fresh)
        samples = []
        for i in range(200):
            event = IntentDropped(address=f"ep-{i:05d}", intent_id="x", reason="benchmark")
            start = time.perf_counter()
            store.append(event)
            samples.append(time.perf_counter() - start)
        commit = median_seconds(1, lambda: store.commit(fresh))
    read = median_seconds(5, lambda: make().read())
    return {"event": statistics.median(samples), "read": read, "commit": commit}


def main() -> None:
    parser = argparse.ArgumentParser()
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
            print(f"{'':<34}{'local file':>14}{'PostgreSQL':>14}")
            for size in SIZES:
                doc = applied_state(size)
                local = measure(lambda s=size: LocalStateStore(tmp / f"s{s}.json"), doc)
                remote = measure(
                    lambda s=size: PostgresStateStore(Database(url), f"bench-{s}"), doc
                )
                mib = len(LocalStateStore(tmp / f"s{size}.json").path.read_bytes()) / 2**20
                print(f"{size} projects (document {mib:.1f} MiB)")
                rows = [
                    ("one journal event (committed)", "event", 1e6, "us"),
                    ("a plan's state read", "read", 1e3, "ms"),
                    ("commit (fold + write + serial)", "commit", 1e3, "ms"),
                ]
                for label, key, scale, unit in rows:
                    print(
                        f"  {label:<32}{local[key] * scale:>11.1f} {unit}"
                        f"{remote[key] * scale:>11.1f} {unit}"
                    )
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
