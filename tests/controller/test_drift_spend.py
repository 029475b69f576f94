"""The dashboard's drift (a `plan --refresh` the controller makes on each new revision and every
`drift_interval`) and its spend per day (the state's record, the same numbers as `costs`)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from html import unescape

import httpx
import pytest

from tests.builders import TOKEN
from tests.controller.conftest import Served
from tests.controller.test_serve import SHOWS

pytestmark = pytest.mark.e2e


def _workspace(served: Served) -> dict:
    return httpx.get(f"{served.url}/api/workspaces").json()["workspaces"][0]


def test_an_agent_job_run_by_hand_shows_as_drift_on_the_pages_and_the_api(
    serve_git: Callable[..., Served],
) -> None:
    served = serve_git({"ws/main.yaml": SHOWS}, local=True, extra="drift_interval: 0.5\n")
    first = served.wait_for("the first run", lambda: served.runs())[0]
    served.run_for(first["revision"], "applied")
    served.wait_for("a drift read", lambda: _workspace(served)["drift_checked_at"])
    assert _workspace(served)["drift"] == []
    assert "<h2>Drift</h2>" in httpx.get(f"{served.url}/workspaces/shows").text

    # Someone runs an agent job on a managed project by hand.
    project_id = next(i for i, name, _, _ in served.jobs() if name == "Episode 2")
    httpx.post(
        f"{served.emulator.base_url}/jobs/agent",
        json={"project_id": project_id, "prompt": "Add a title card"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    ).raise_for_status()
    job_id = next(
        j["job_id"]
        for p in httpx.get(f"{served.emulator.root_url}/_emulator/projects").json()["projects"]
        if p["project_id"] == project_id
        for j in p["jobs"]
        if j["job_type"] == "agent"
    )
    drift = served.wait_for("the drift", lambda: _workspace(served)["drift"])
    assert len(drift) == 1 and drift[0].startswith(f"~ ep2: agent job {job_id}"), drift
    page = httpx.get(f"{served.url}/workspaces/shows").text
    assert "1 change(s) made outside descript-iac" in page
    assert f"~ ep2: agent job {job_id}" in unescape(page)
    index = httpx.get(f"{served.url}/").text
    assert re.search(r"<td>1</td><td></td></tr>", index), index  # the drift column

    # A new revision is planned with the drift it found: on its run's page and API.
    (served.repo / "ws" / "main.yaml").write_text(SHOWS.replace("Episode 2", "Episode Two"))
    run = served.wait_for(
        "a second run",
        lambda: [
            r
            for r in served.runs()
            if r["revision"] != first["revision"] and r["status"] != "planning"
        ],
    )[0]
    assert [line.split(" (")[0] for line in run["drift"]] == [f"~ ep2: agent job {job_id}"], run
    assert f"~ ep2: agent job {job_id}" in unescape(
        httpx.get(f"{served.url}/runs/{run['id']}").text
    )


def test_spend_per_day_is_the_states_record_in_the_chart_and_the_api(
    serve_git: Callable[..., Served],
) -> None:
    served = serve_git({"ws/main.yaml": SHOWS}, local=True)
    first = served.wait_for("the first run", lambda: served.runs())[0]
    served.run_for(first["revision"], "applied")
    days = httpx.get(f"{served.url}/api/workspaces/shows/spend").json()["days"]
    # the same numbers as `descript-iac costs` on the controller's state file
    state = served.repo.parent / "data" / "state" / "shows.json"
    costs = subprocess.run(
        [sys.executable, "-m", "descript_iac", "costs", str(served.repo / "ws"), "--state",
         str(state), "--format", "json"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    expected = json.loads(costs.stdout)["days"]
    assert [d["day"] for d in days] == list(expected)
    for d in days:
        row = expected[d["day"]]
        assert (d["ai_credits"], d["media_seconds"], d["jobs"], d["unknown_jobs"]) == (
            row["ai_credits"], row["media_seconds"], row["jobs"], row["unknown_jobs"]
        )  # fmt: skip
    assert sum(d["jobs"] for d in days) == 3  # two imports and a step
    assert sum(d["ai_credits"] for d in days) > 0
    page = httpx.get(f"{served.url}/workspaces/shows").text
    assert "<svg id='spend-chart'" in page
    bars = re.findall(r"<rect [^>]*height='(\d+)'", page)
    assert len(bars) == len(days) and max(int(b) for b in bars) == 120  # the top day fills it
    for d in days:
        assert f"<tr><td>{d['day']}</td><td>{d['ai_credits']:g}</td>" in page
