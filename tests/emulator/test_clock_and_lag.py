"""The emulator's clock shows in every reply's Date header and at /_emulator/clock; with a
history lag a new job (or project) appears in the lists only once the clock has passed it."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

import httpx

from tests.builders import advance_clock, inspect, serving

IMPORT = {"project_name": "Ep", "add_media": {"a.wav": {"url": "https://cdn.example.com/a.wav"}}}


def _server_time(reply: httpx.Response) -> float:
    [date] = reply.headers.get_list("date")  # one Date: uvicorn's real-time one is off
    return parsedate_to_datetime(date).timestamp()


def test_date_header_follows_the_manual_clock() -> None:
    with serving(manual_clock=True) as (running, api):
        clock = inspect(running, "clock").json()
        first = api.get("/status")
        now = advance_clock(running, 10 * 86_400 + 0.5)
        later = api.get("/status")
        missing = api.get("/nope")
        inspection = inspect(running, "stats")
        clock_after = inspect(running, "clock").json()
    assert _server_time(first) == int(clock["now"])
    assert clock["iso"].endswith("Z") and clock_after["now"] == now
    assert now - clock["now"] == 10 * 86_400 + 0.5  # only the advance moved it
    assert _server_time(later) == int(now)  # ten days on, in the very next reply
    assert _server_time(missing) == _server_time(inspection) == int(now)


def test_history_lag_hides_a_job_from_the_list_until_the_clock_passes_it() -> None:
    with serving(manual_clock=True, history_lag=75) as (running, api):
        created = api.post("/jobs/import/project_media", json=IMPORT).json()

        def listed() -> bool:
            ids = [j["job_id"] for j in api.get("/jobs").json()["data"]]
            by_project = api.get("/jobs", params={"project_id": created["project_id"]}).json()
            assert ids == [j["job_id"] for j in by_project["data"]]
            return created["job_id"] in ids

        direct = api.get(f"/jobs/{created['job_id']}")
        before = listed()
        advance_clock(running, 74.9)
        just_before = listed()
        advance_clock(running, 0.1)
        at_lag = listed()
    assert direct.status_code == 200  # read by id: not lagged
    assert (before, just_before, at_lag) == (False, False, True)


def test_history_lag_is_set_at_run_time_and_reset() -> None:
    with serving(manual_clock=True) as (running, api):
        inspect(running, "faults", {"history_lag": 30})
        api.post("/jobs/import/project_media", json=IMPORT)
        lagged = api.get("/jobs").json()["data"]
        inspect(running, "reset", {})
        api.post("/jobs/import/project_media", json=IMPORT)
        after_reset = api.get("/jobs").json()["data"]
    assert lagged == [] and len(after_reset) == 1


def test_projects_lag_hides_a_new_project_from_the_project_list() -> None:
    with serving(manual_clock=True, api_level="2026", projects_lag=30) as (running, api):
        created = api.post("/jobs/import/project_media", json=IMPORT).json()
        hidden = api.get("/projects").json()["data"]
        direct = api.get(f"/projects/{created['project_id']}")
        advance_clock(running, 30)
        shown = api.get("/projects").json()["data"]
    assert hidden == [] and direct.status_code == 200
    assert [p["id"] for p in shown] == [created["project_id"]]
