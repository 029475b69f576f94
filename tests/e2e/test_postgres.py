"""Teams on PostgreSQL, end to end: real `apply` processes, a real server, the emulator over a
real socket. One lock per state that never sticks; the drive-wide rule across machines; state
push/pull; a cheap plan; a URL that stays secret."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.builders import TOKEN, run_cli, start_emulator, write_workspace
from tests.e2e.conftest import Served, cli
from tests.e2e.test_apply import expected_counts, job_counts

pytestmark = pytest.mark.e2e
FAST = ("--poll-interval", "0.05")
PG_ENV = "SHOWS_PG_URL"
PG_BLOCK = f'version: 1\nstate: {{backend: postgresql, url: "${{env:{PG_ENV}}}"}}\n'


def sql(url: str, text: str, params: Any = ()) -> list[Any]:
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(text, params)
        return cursor.fetchall() if cursor.description else []


def on_postgres(root: Path) -> Path:
    """Give the workspace a `state:` block naming the database in $SHOWS_PG_URL."""
    (root / "state.yaml").write_text(PG_BLOCK)
    return root


def popen(*args: str, env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "descript_iac", *args],
        env={**os.environ, **env},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_until(condition: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def backends_of(url: str, pid: int) -> list[int]:
    rows = sql(
        url,
        "SELECT pid FROM pg_stat_activity WHERE application_name = %s",
        [f"descript-iac pid {pid}"],
    )
    return [r[0] for r in rows]


# --- one lock per state, that never sticks ------------------------------------------------------


def test_two_applies_of_one_workspace_one_runs_the_other_fails_or_waits(
    tmp_path: Path, pg_url: str
) -> None:
    emulator = start_emulator(manual_clock=True, job_seconds=10)
    try:
        root = on_postgres(
            write_workspace(
                tmp_path / "show",
                {
                    "ep.yaml": 'version: 1\nprojects:\n  ep:\n    media:\n      a.wav: {url: "https://cdn.example.com/a.wav"}\n'
                },
            )
        )
        env = {
            "DESCRIPT_API_URL": emulator.base_url,
            "DESCRIPT_API_TOKEN": TOKEN,
            PG_ENV: pg_url,
            "DESCRIPT_IAC_COMMIT_SPAN": "1",
            "DESCRIPT_IAC_HISTORY_LAG": "0",
        }
        first = popen("apply", str(root), "--auto-approve", *FAST, env=env, cwd=tmp_path)
        # It holds the lock, its import is sent, and the job cannot finish: time stands still.
        wait_until(lambda: len(emulator.backend.jobs) == 1, "the first apply's import")
        refused = cli("apply", str(root), "--auto-approve", env=env, cwd=tmp_path)
        assert refused.returncode == 1
        assert f"pid {first.pid} running 'apply' since" in refused.stderr
        assert "postgresql state 'show' on 127.0.0.1:" in refused.stderr
        assert "descript-iac force-unlock" in refused.stderr
        waiting = popen(
            "--lock-timeout",
            "120",
            "apply",
            str(root),
            "--auto-approve",
            *FAST,
            env=env,
            cwd=tmp_path,
        )
        wait_until(lambda: backends_of(pg_url, waiting.pid), "the second apply to ask for the lock")
        emulator.backend.clock.advance(60)  # the first apply's job finishes; it records, exits
        out, _ = first.communicate(timeout=60)
        assert first.returncode == 0, out
        out, _ = waiting.communicate(timeout=60)
        assert waiting.returncode == 0, out
        assert "No changes. 1 project is up to date." in out
        assert len(emulator.backend.jobs) == 1  # one import, never two
    finally:
        emulator.stop()


@pytest.mark.parametrize("failpoint", ["after_post:2", "after_job_recorded:4"])
def test_sigkill_of_the_holder_frees_the_lock_and_the_next_run_resumes_from_the_journal(
    served: Served, workspace: Path, tmp_path: Path, pg_url: str, failpoint: str
) -> None:
    on_postgres(workspace)
    env = served.env(**{PG_ENV: pg_url})
    killed = cli(
        "apply",
        str(workspace),
        "--auto-approve",
        *FAST,
        env={**env, "DESCRIPT_IAC_FAILPOINT": failpoint},
        cwd=tmp_path,
    )
    assert killed.returncode == -signal.SIGKILL
    assert sql(pg_url, "SELECT count(*) FROM descript_iac.journal_events")[0][0] > 0
    # No force-unlock and no --lock-timeout: the lock went with the dead process's connection.
    resumed = run_cli("apply", str(workspace), "--auto-approve", *FAST, env=env)
    assert resumed.exit_code == 0, resumed.output
    assert "is locked" not in resumed.output
    assert job_counts(served) == expected_counts()  # exactly one job per intent
    assert sql(pg_url, "SELECT count(*) FROM descript_iac.journal_events") == [(0,)]


def test_pg_terminate_backend_mid_apply_stops_new_posts_and_loses_nothing(
    served: Served, workspace: Path, tmp_path: Path, pg_url: str
) -> None:
    on_postgres(workspace)
    env = served.env(**{PG_ENV: pg_url})
    applying = popen(
        "apply",
        str(workspace),
        "--auto-approve",
        "--parallelism",
        "1",
        *FAST,
        env=env,
        cwd=tmp_path,
    )

    def jobs() -> int:
        return sum(len(p["jobs"]) for p in served.projects())

    wait_until(lambda: jobs() >= 1, "the first job")
    # End the session that holds the state lock, as a DBA (or a failover) would.
    holder = sql(pg_url, "SELECT backend_pid, pid FROM descript_iac.holders")
    assert [pid for _, pid in holder] == [applying.pid]
    sql(pg_url, "SELECT pg_terminate_backend(%s, 5000)", [holder[0][0]])
    sent_before = jobs()
    out, _ = applying.communicate(timeout=60)
    assert applying.returncode == 1, out
    assert "the connection to PostgreSQL at 127.0.0.1:" in out and "was lost" in out
    assert "nothing more is sent" in out
    assert pg_url.split("@")[0] not in out  # no user, no password
    sent = jobs()
    assert sent <= sent_before + 1  # at most the POST whose intent was committed just before
    assert sent < 8  # it stopped: the workspace needs 8 jobs
    announced = sql(
        pg_url,
        "SELECT count(*) FROM descript_iac.journal_events WHERE event->>'type' = 'intent_opened'",
    )[0][0]
    assert announced >= sent  # every POST was journaled before it went out
    again = run_cli("apply", str(workspace), "--auto-approve", *FAST, env=env)
    assert again.exit_code == 0, again.output
    assert job_counts(served) == expected_counts()


# --- the drive-wide rule, across machines ---------------------------------------------------------

EPISODE = """version: 1
state: {{backend: postgresql, url: "${{env:{env}}}"}}
projects:
  episode:
    name: "Episode {i}"
    media:
      raw/host.wav: {{url: "https://cdn.example.com/ep{i}/host.wav"}}
      raw/guest.wav: {{url: "https://cdn.example.com/ep{i}/guest.wav"}}
    compositions:
      - name: Full episode
        clips: [{{media: raw/host.wav}}, {{media: raw/guest.wav}}]
    steps:
      - {{id: cleanup, prompt: Remove filler words}}
"""


def test_eight_machines_eight_workspaces_one_drive_exactly_one_job_per_intent(
    served: Served, tmp_path: Path, pg_url: str
) -> None:
    """Same media and composition names in every workspace (every episode has raw/host.wav and
    "Full episode"), lost replies and 5xx: no run may adopt another's job nor send a look-alike
    while one is in doubt. Each process has its own cache directory, as on its own machine, so
    only the PostgreSQL registry can keep the rule."""
    served.faults(lose_response_rate=0.3, error_rate=0.1, seed=5)
    roots = [
        write_workspace(tmp_path / f"ws{i}", {"show.yaml": EPISODE.format(i=i, env=PG_ENV)})
        for i in range(8)
    ]
    pending = list(range(8))
    log: list[str] = []
    for _ in range(6):
        runs = {
            i: popen(  # (--new-state: eight new workspaces make look-alikes at once, on purpose)
                "apply",
                str(roots[i]),
                "--auto-approve",
                "--new-state",
                *FAST,
                env=served.env(**{PG_ENV: pg_url, "XDG_CACHE_HOME": str(tmp_path / f"cache{i}")}),
                cwd=tmp_path,
            )
            for i in pending
        }
        finished = {i: run.communicate(timeout=300)[0] for i, run in runs.items()}
        log += [f"ws{i} (exit {runs[i].returncode}):\n{out}" for i, out in finished.items()]
        assert not any("quarantined" in out for out in finished.values()), "\n".join(log)
        pending = [
            i for i, out in finished.items() if runs[i].returncode != 0 or "No changes." not in out
        ]
        if not pending:
            break
    else:
        pytest.fail("did not converge:\n" + "\n----\n".join(log[-8:]))
    projects = served.projects()
    counts = {p["name"]: Counter(j["prompt"] or j["job_type"] for j in p["jobs"]) for p in projects}
    expected = Counter({"import/project_media": 1, "Remove filler words": 1})
    assert len(projects) == 8 and counts == {f"Episode {i}": expected for i in range(8)}
    stats = httpx.get(f"{served.root}/_emulator/stats").json()
    assert stats.get("replies_lost", 0) >= 1 and stats.get("errors_injected", 0) >= 1
    recorded = sql(
        pg_url,
        "SELECT document->'projects'->'episode'->>'project_id', "
        "jsonb_array_length(document->'projects'->'episode'->'intents') FROM descript_iac.states",
    )
    assert len({project for project, _ in recorded}) == 8  # each workspace its own project
    assert {intents for _, intents in recorded} == {0}  # nothing left in doubt


# --- moving between backends ----------------------------------------------------------------------


def test_state_push_and_pull_round_trip_byte_identical_and_refuse_what_would_lose(
    served: Served, workspace: Path, tmp_path: Path, pg_url: str
) -> None:
    env = served.env(**{PG_ENV: pg_url})
    assert run_cli("apply", str(workspace), "--auto-approve", *FAST, env=env).exit_code == 0
    local = Path("state") / "show.json"
    original = local.read_bytes()
    on_postgres(workspace)
    ws = ("--workspace", str(workspace))

    def state(*args: str) -> Any:
        return run_cli("state", *args, *ws, env=env)

    pushed = state("push", str(local))
    assert pushed.exit_code == 0, pushed.output
    assert f"Copied {local} (serial 1, lineage " in pushed.output
    assert "to postgresql state 'show' on 127.0.0.1:" in pushed.output
    assert "which had no state" in pushed.output
    pulled = tmp_path / "pulled.json"
    done = state("pull", str(pulled))
    assert done.exit_code == 0 and f"to {pulled}, which had no state" in done.output
    assert pulled.read_bytes() == original  # byte for byte
    # The database state is the workspace's state now: nothing to do.
    plan = run_cli("plan", str(workspace), env=env)
    assert plan.exit_code == 0 and "No changes. 3 projects are up to date." in plan.output
    same = state("push", str(local))
    assert same.exit_code == 0 and "already holds" in same.output
    # Another lineage is refused, unless forced.
    stranger = tmp_path / "stranger.json"
    stranger.write_bytes(original.replace(b'"lineage":"', b'"lineage":"x'))
    refused = state("push", str(stranger))
    assert refused.exit_code == 1 and "another state (lineage" in refused.output
    assert "pass --force" in refused.output
    # An older copy is refused: the database moved on (an apply after a new step).
    (workspace / "more.yaml").write_text(
        "version: 1\nprojects:\n  extra:\n    steps: [{id: s, prompt: Write a haiku}]\n"
    )
    assert run_cli("apply", str(workspace), "--auto-approve", *FAST, env=env).exit_code == 0
    older = state("push", str(local))
    assert older.exit_code == 1
    assert "the destination is newer (serial 2, this copy is 1)" in older.output
    newer = state("pull", str(pulled))  # the local copy catches up: allowed
    assert newer.exit_code == 0 and "replacing serial 1" in newer.output
    forced = state("push", str(stranger), "--force")
    assert forced.exit_code == 0 and "replacing serial 2" in forced.output


# --- read-only commands stay cheap ----------------------------------------------------------------


def test_a_plan_without_refresh_makes_one_query_and_no_api_call(
    served: Served, workspace: Path, tmp_path: Path, pg_url: str
) -> None:
    on_postgres(workspace)
    env = served.env(**{PG_ENV: pg_url})
    # A saved plan finds its PostgreSQL state again through the workspace (its location in the
    # plan file names no secret, so it cannot be used to connect).
    saved = tmp_path / "release.plan"
    assert run_cli("plan", str(workspace), "--out", str(saved), env=env).exit_code == 0
    assert "postgresql state 'show' on 127.0.0.1:" in saved.read_text()
    applied = run_cli("apply", str(saved), *FAST, env=env)
    assert applied.exit_code == 0 and "8 job(s) issued" in applied.output, applied.output
    sql(pg_url, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    sql(pg_url, "SELECT pg_stat_statements_reset()")
    # No token, and an API address where nothing listens: any API call would fail.
    plan = cli(
        "plan",
        str(workspace),
        env={PG_ENV: pg_url, "DESCRIPT_API_URL": "http://127.0.0.1:9/v1", "DESCRIPT_API_TOKEN": ""},
        cwd=tmp_path,
    )
    assert plan.returncode == 0, plan.stderr
    assert "No changes. 3 projects are up to date." in plan.stdout
    statements = sql(
        pg_url,
        "SELECT query, calls FROM pg_stat_statements "
        "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND query NOT LIKE %s",
        ["%pg_stat_statements%"],
    )
    assert sum(calls for _, calls in statements) == 1, statements
    assert "document" in statements[0][0] and "journal_events" in statements[0][0]


def test_plan_refresh_warns_when_a_new_empty_state_meets_a_busy_history(
    served: Served, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = served.env()
    assert run_cli("apply", str(workspace), "--auto-approve", *FAST, env=env).exit_code == 0
    quiet = run_cli("plan", str(workspace), "--refresh", env=env)
    assert "Warning" not in quiet.output
    # The default state/show.json is relative to the working directory: from elsewhere, the
    # plan starts a new state while the history shows 8 jobs.
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    plan = run_cli("plan", str(workspace), "--refresh", env=env)
    assert plan.exit_code == 0
    assert "Warning: state/show.json holds no state yet" in plan.output
    assert "has 8 job(s) from the last 30 days (8 of them recorded by other states" in plan.output
    assert "Plan: 3 projects to create" in plan.output
    # Without --refresh no API call is made; this machine remembers where the state is.
    dead = {"DESCRIPT_API_URL": "http://127.0.0.1:9/v1", "DESCRIPT_API_TOKEN": ""}
    without = run_cli("plan", str(workspace), env=dead)
    assert without.exit_code == 0
    assert "was last applied with its state at" in without.output
    assert "job history" not in without.output


def test_the_database_url_never_reaches_output_state_or_plans(
    served: Served, workspace: Path, tmp_path: Path, pg_url: str, postgres_server: Any
) -> None:
    on_postgres(workspace)
    password = postgres_server.password
    env = served.env(**{PG_ENV: pg_url})
    outputs = []
    for args in (
        ("apply", str(workspace), "--auto-approve", *FAST),
        ("-v", "plan", str(workspace), "--refresh", "--out", str(tmp_path / "p.plan")),
        ("--backend-url", pg_url, "state", "show", "--json", "--workspace", str(workspace)),
    ):
        done = cli(*args, env=env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout + done.stderr)
    wrong = cli(
        "plan",
        str(workspace),
        env={**env, PG_ENV: pg_url.replace(password, "wrong-pass-77")},
        cwd=tmp_path,
    )
    assert wrong.returncode == 1 and "cannot connect to PostgreSQL" in wrong.stderr
    outputs.append(wrong.stdout + wrong.stderr)
    stored = [
        (tmp_path / "p.plan").read_text(),
        str(sql(pg_url, "SELECT document FROM descript_iac.states")),
        str(sql(pg_url, "SELECT * FROM descript_iac.holders")),
    ]
    for text in outputs + stored:
        assert password not in text and "wrong-pass-77" not in text
        assert pg_url not in text
