"""`descript-iac serve` end to end, over real sockets: a git repository made here, the emulator at
the 2026 level delivering callbacks, and the controller's HTTP API."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable

import httpx
import pytest

from tests.controller.conftest import CONTROLLER_TOKEN, HOOK_SECRET, Served

pytestmark = pytest.mark.e2e

SHOWS = """\
version: 1
projects:
  ep1:
    name: Episode 1
    lifecycle: {on_change: replace}
    media:
      host.wav: {url: "https://cdn.example.com/ep1/host.wav"}
    compositions:
      - name: Full
        clips: [{media: host.wav}]
    steps:
      - id: cleanup
        prompt: Remove filler words
  ep2:
    name: Episode 2
    media:
      host.wav: {url: "https://cdn.example.com/ep2/host.wav"}
"""

BEARER = {"Authorization": f"Bearer {CONTROLLER_TOKEN}"}


def test_adds_apply_on_their_own_a_replace_waits_for_approval(
    serve_git: Callable[[dict[str, str]], Served],
) -> None:
    served = serve_git({"ws/main.yaml": SHOWS})
    revision = _head(served)
    applied = served.run_for(revision, "applied")
    assert applied["verdicts"] == [] and applied["jobs"] == 3, applied
    assert Counter(t for _, _, t, _ in served.jobs()) == {"import/project_media": 2, "agent": 1}
    projects = httpx.get(f"{served.url}/api/workspaces/shows/projects").json()["projects"]
    made = {p: i for i, p, _, _ in served.jobs()}
    assert [(p["address"], p["project_url"]) for p in projects] == [
        ("ep1", f"https://web.descript.com/{made['Episode 1']}"),
        ("ep2", f"https://web.descript.com/{made['Episode 2']}"),
    ]
    assert [(s["id"], s["status"]) for s in projects[0]["steps"]] == [("cleanup", "success")]

    # A commit that changes ep1's media: a replace, which the policy holds.
    changed = SHOWS.replace("ep1/host.wav", "ep1/host-v2.wav")
    second = served.commit({"ws/main.yaml": changed}, "new take of episode 1")
    assert served.push_hook().status_code == 202
    held = served.run_for(second, "held")
    assert any("replace" in reason for reason in held["reasons"]), held
    assert "-/+" in held["plan_text"]
    before = served.jobs()

    # Refused, each of them, and nothing is sent.
    refused_before = _refused_callbacks(served)
    verdict = f"{served.url}/api/runs/{held['id']}/approve"
    assert httpx.post(verdict, json={"by": "mallory"}).status_code == 401
    wrong = {"Authorization": "Bearer not-the-token"}
    assert httpx.post(verdict, json={"by": "mallory"}, headers=wrong).status_code == 401
    assert served.push_hook(secret="not-the-secret").status_code == 401
    assert served.push_gitlab(token="not-the-secret").status_code == 401
    forged = f"{served.url}/callbacks/{held['id']}/forged-secret"
    assert httpx.post(forged, json={"job_state": "stopped"}).status_code == 404
    non_ascii = f"{served.url}/callbacks/{held['id']}/s%C3%A9cret"  # refused, not a 500
    assert httpx.post(non_ascii, json={}).status_code == 404
    unknown = f"{served.url}/callbacks/no-such-run/{'x' * 32}"
    assert httpx.post(unknown, json={}).status_code == 404
    # Counted too (a late callback of the first run's last job may be counted besides: only
    # these three are looked at).
    assert _refused_callbacks(served) - refused_before == 3
    assert served.runs()[0]["status"] == "held" and served.runs()[0]["verdicts"] == []
    assert served.jobs() == before

    # Approved through the API: applied, recorded with who and when.
    answer = httpx.post(verdict, json={"by": "alice"}, headers=BEARER)
    assert answer.status_code == 200 and answer.json() == {"status": "queued"}
    done = served.run_for(second, "applied")
    assert [(v["verdict"], v["by"]) for v in done["verdicts"]] == [("approved", "alice")]
    assert done["verdicts"][0]["at"]
    assert done["jobs"] == 2  # the new project's import and its step

    # 0 duplicates: one import and at most one cleanup per project made.
    jobs = Counter(served.jobs())
    assert all(n == 1 for n in jobs.values()), jobs
    assert Counter(name for _, name, kind, _ in served.jobs() if kind != "agent") == {
        "Episode 1": 2,  # the first project and its replacement
        "Episode 2": 1,
    }
    metrics = httpx.get(f"{served.url}/metrics").text
    assert 'descript_iac_callbacks_total{outcome="accepted"}' in metrics
    assert 'descript_iac_webhooks_total{outcome="refused"} 2' in metrics
    # a checked GitLab push of a commit already planned wakes the workspace, and plans nothing
    assert served.push_gitlab().json() == {"woken": ["shows"]}
    assert len(served.runs()) == 2
    assert 'descript_iac_jobs_total{outcome="succeeded"} 5' in metrics
    assert "descript_iac_rate_limited_total 0" in metrics
    assert "descript_iac_queue_depth 0" in metrics


def _refused_callbacks(served: Served) -> int:
    metrics = httpx.get(f"{served.url}/metrics").text
    prefix = 'descript_iac_callbacks_total{outcome="refused"} '
    found = [line[len(prefix) :] for line in metrics.splitlines() if line.startswith(prefix)]
    return int(found[0]) if found else 0


def _head(served: Served) -> str:
    from tests.controller.conftest import git

    return git(served.repo, "rev-parse", "HEAD")


def test_hook_secret_is_never_in_pages(serve_git: Callable[[dict[str, str]], Served]) -> None:
    served = serve_git({"ws/main.yaml": SHOWS})
    served.run_for(_head(served), "applied")
    secrets = [HOOK_SECRET, CONTROLLER_TOKEN, "test-token-0123456789"]
    run = served.runs()[0]
    pages = [
        httpx.get(f"{served.url}{path}").text
        for path in ("/", f"/runs/{run['id']}", "/api/runs", "/api/workspaces", "/metrics")
    ]
    for page in pages:
        for secret in secrets:
            assert secret not in page
        assert "callback_secret" not in page
    # The callback secrets are in the controller's runs file (mode 0600) and nowhere else: not
    # in the log, the state, its journal or the git checkout.
    data = served.repo.parent / "data"
    kept = json.loads((data / "runs.json").read_text())["runs"]
    assert (data / "runs.json").stat().st_mode & 0o077 == 0
    for path in served.repo.parent.rglob("*"):
        if path.is_file() and path.name != "runs.json" and ".git" not in path.parts:
            text = path.read_bytes()
            for run in kept:
                assert run["callback_secret"].encode() not in text, path
