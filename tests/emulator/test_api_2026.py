"""The 2026 surface (`api_level="2026"`): projects, publish, cancel, folder_name and
composition_id, with their errors; and what the seed level answers instead."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.builders import advance_clock, inspect, serving

EPISODE = {
    "project_name": "Episode 7",
    "folder_name": "Clients/Acme/",
    "add_media": {
        "raw/host.wav": {"url": "https://cdn.example.com/ep7/host.wav"},
        "raw/cam.mp4": {"url": "https://cdn.example.com/ep7/cam.mp4"},
        "interview": {
            "tracks": [{"media": "raw/host.wav"}, {"media": "raw/cam.mp4", "offset": 1.5}]
        },
    },
    "add_compositions": [
        {"name": "Full episode", "clips": [{"media": "interview"}]},
        {"name": "Audio only", "clips": [{"media": "raw/host.wav"}]},
    ],
}
NOBODY = "00000000-0000-4000-8000-000000000000"


def _imported(running: Any, api: httpx.Client, body: dict[str, Any] = EPISODE) -> dict[str, Any]:
    created = api.post("/jobs/import/project_media", json=body)
    assert created.status_code == 201, created.text
    advance_clock(running, 60)
    job = api.get(f"/jobs/{created.json()['job_id']}").json()
    return {**created.json(), "compositions": job["result"]["created_compositions"]}


# --- projects --------------------------------------------------------------------------------


def test_project_details_show_media_once_the_import_stopped() -> None:
    with serving(manual_clock=True, api_level="2026") as (running, api):
        created = api.post("/jobs/import/project_media", json=EPISODE).json()
        during = api.get(f"/projects/{created['project_id']}").json()
        advance_clock(running, 60)
        after = api.get(f"/projects/{created['project_id']}").json()
        job = api.get(f"/jobs/{created['job_id']}").json()["result"]
        bad_id = api.get("/projects/not-a-uuid")
        unknown = api.get(f"/projects/{NOBODY}")
    assert during["media_files"] == {} and during["compositions"] == []
    assert after["id"] == created["project_id"] and after["name"] == "Episode 7"
    assert after["drive_id"] == created["drive_id"] and after["folder_path"] == "Clients/Acme"
    files = after["media_files"]
    assert {n: f["type"] for n, f in files.items()} == {
        "raw/host.wav": "audio",
        "raw/cam.mp4": "video",
        "interview": "sequence",
    }
    status = job["media_status"]
    assert files["raw/host.wav"]["duration"] == status["raw/host.wav"]["duration_seconds"]
    comps = {c["name"]: c for c in after["compositions"]}
    assert [c["id"] for c in job["created_compositions"]] == [
        c["id"] for c in after["compositions"]
    ]
    assert comps["Full episode"]["duration"] == status["interview"]["duration_seconds"]
    assert comps["Full episode"]["media_type"] == "video"
    assert comps["Audio only"]["media_type"] == "audio"
    assert after["updated_at"] > after["created_at"]
    assert bad_id.status_code == 400 and unknown.status_code == 404


def test_project_list_filters_sorts_and_pages() -> None:
    with serving(manual_clock=True, api_level="2026") as (running, api):
        made = []
        for i, name in enumerate(["Bravo", "alpha", "Charlie", "Alphabet", "Delta"]):
            body = {"project_name": name, **({"folder_name": "Shows/Weekly"} if i % 2 else {})}
            made.append(api.post("/jobs/import/project_media", json=body).json()["project_id"])
            advance_clock(running, 10)
        newest_first = [p["name"] for p in api.get("/projects").json()["data"]]
        alpha = api.get("/projects", params={"name": "ALPHA", "sort": "name", "direction": "asc"})
        weekly = api.get("/projects", params={"folder_path": "Shows/Weekly"}).json()["data"]
        mine = api.get("/projects", params={"created_by": "me"}).json()["data"]
        created = api.get("/projects").json()["data"][2]["created_at"]
        recent = api.get("/projects", params={"created_after": created}).json()["data"]
        pages, cursor = [], None
        for _ in range(5):  # bounded: a cursor that never ends must fail, not hang
            params: dict[str, Any] = {"limit": 2, "sort": "name", "direction": "asc"}
            page = api.get("/projects", params={**params, **({"cursor": cursor} if cursor else {})})
            body = page.json()
            pages.append([p["name"] for p in body["data"]])
            if "next_cursor" not in body["pagination"]:
                assert body["pagination"] == {}
                break
            cursor = body["pagination"]["next_cursor"]
        wrong_order = api.get("/projects", params={"cursor": cursor or "x", "sort": "created_at"})
    assert newest_first == ["Delta", "Alphabet", "Charlie", "alpha", "Bravo"]
    assert [p["name"] for p in alpha.json()["data"]] == ["alpha", "Alphabet"]
    assert {p["name"] for p in weekly} == {"alpha", "Alphabet"}
    assert all(p["folder_path"] == "Shows/Weekly" for p in weekly)
    assert len(mine) == 5 and "folder_path" not in mine[0]  # Delta sits at the drive's root
    assert [p["name"] for p in recent] == ["Delta", "Alphabet", "Charlie"]
    assert pages == [["alpha", "Alphabet"], ["Bravo", "Charlie"], ["Delta"]]
    assert wrong_order.status_code == 400


# --- folder_name and composition_id ----------------------------------------------------------


def test_folder_name_places_the_new_project_and_is_type_checked() -> None:
    with serving(manual_clock=True, api_level="2026") as (_running, api):
        ok = api.post("/jobs/import/project_media", json={"folder_name": "A//B/ C /"})
        wrong = api.post("/jobs/import/project_media", json={"folder_name": True})
        null = api.post("/jobs/import/project_media", json={"folder_name": None})
        project = api.get(f"/projects/{ok.json()['project_id']}").json()
    assert ok.status_code == 201 and project["folder_path"] == "A/B/C"
    assert wrong.status_code == 400 and "folder_name must be a string" in wrong.json()["message"]
    assert null.status_code == 400


def test_composition_id_must_name_a_composition_of_the_project() -> None:
    with serving(manual_clock=True, api_level="2026") as (running, api):
        project = _imported(running, api)
        comp = project["compositions"][0]["id"]
        base = {"project_id": project["project_id"], "prompt": "Add captions"}
        by_uuid = api.post("/jobs/agent", json={**base, "composition_id": comp})
        by_short = api.post("/jobs/agent", json={**base, "composition_id": comp[:5]})
        url = f"https://web.descript.com/{project['project_id']}/{comp[:5]}"
        by_url = api.post("/jobs/agent", json={**base, "composition_id": url})
        missing = api.post("/jobs/agent", json={**base, "composition_id": NOBODY})
        alone = api.post(
            "/jobs/agent", json={"project_name": "X", "prompt": "Hi", "composition_id": comp}
        )
        advance_clock(running, 60)
        edits = inspect(running, "projects").json()["projects"][0]["edits"]
    assert [r.status_code for r in (by_uuid, by_short, by_url)] == [201, 201, 201]
    assert missing.status_code == 404 and "not found in project" in missing.json()["message"]
    assert alone.status_code == 400 and "project_id" in alone.json()["message"]
    assert [e["composition_id"] for e in edits] == [comp, comp, comp]


def test_seed_level_ignores_composition_id_and_refuses_folder_name() -> None:
    with serving(manual_clock=True) as (running, api):
        project = _imported(running, api, {"project_name": "Ep"})
        agent = api.post(
            "/jobs/agent",
            json={"project_id": project["project_id"], "prompt": "Hi", "composition_id": "zzz"},
        )
        folder = api.post("/jobs/import/project_media", json={"folder_name": "Clients"})
    assert agent.status_code == 201  # "accepted but not yet functional", as the seed docs say
    assert folder.status_code == 400 and "unknown field 'folder_name'" in folder.json()["message"]


# --- publish ---------------------------------------------------------------------------------


def test_publish_makes_a_stable_share_url_and_a_signed_download_url() -> None:
    with serving(manual_clock=True, api_level="2026") as (running, api):
        project = _imported(running, api)
        comp = project["compositions"][0]["id"]
        body = {"project_id": project["project_id"], "composition_id": comp}
        first = api.post("/jobs/publish", json={**body, "resolution": "1080p"}).json()
        running_view = api.get(f"/jobs/{first['job_id']}").json()
        again = api.post("/jobs/publish", json={**body, "access_level": "private"}).json()
        audio = api.post("/jobs/publish", json={**body, "media_type": "Audio"}).json()
        advance_clock(running, 60)
        results = [api.get(f"/jobs/{j['job_id']}").json() for j in (first, again, audio)]
        publishes = api.get("/jobs", params={"type": "publish"}).json()["data"]
        slug = urlsplit(results[0]["result"]["share_url"]).path.rsplit("/", 1)[-1]
        page = api.get(f"/published_projects/{slug}").json()
    assert running_view["job_state"] == "running"
    assert running_view["progress"]["composition_id"] == comp
    first_result, again_result, audio_result = (r["result"] for r in results)
    assert results[0]["job_type"] == "publish" and first_result["status"] == "success"
    assert first_result["composition_id"] == comp
    assert first_result["share_url"] == again_result["share_url"]  # republish reuses it
    assert audio_result["share_url"] != first_result["share_url"]  # one per media type
    assert urlsplit(first_result["download_url"]).query  # signed
    assert audio_result["download_url"].split("?")[0].endswith(".m4a")
    assert first_result["download_url_expires_at"] > results[0]["stopped_at"]
    assert {j["job_id"] for j in publishes} == {first["job_id"], again["job_id"], audio["job_id"]}
    assert page["project_id"] == project["project_id"] and page["privacy"] == "private"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"access_level": "public"}, 403, "not permitted by the drive's publish settings"),
        ({"composition_id": NOBODY}, 422, "is not a composition of project"),
        ({"project_id": NOBODY}, 403, "not on this token's drive"),
        ({"project_id": "nope"}, 400, "Invalid project_id format"),
        ({"media_type": "video"}, 400, '"media_type" must be one of'),
        ({"resolution": "8K"}, 400, '"resolution" must be one of'),
        ({"colour": "red"}, 400, "unknown field 'colour'"),
    ],
)
def test_publish_errors(body: dict[str, Any], status: int, message: str) -> None:
    with serving(manual_clock=True, api_level="2026") as (running, api):
        project = _imported(running, api, {"project_name": "P", **_one_composition()})
        reply = api.post("/jobs/publish", json={"project_id": project["project_id"], **body})
    assert reply.status_code == status and message in reply.json()["message"]


def test_publish_access_levels_are_a_setting() -> None:
    with serving(manual_clock=True, api_level="2026", publish_access_levels=["public"]) as (
        running,
        api,
    ):
        project = _imported(running, api, {"project_name": "P", **_one_composition()})
        public = api.post(
            "/jobs/publish", json={"project_id": project["project_id"], "access_level": "public"}
        )
        unlisted = api.post(
            "/jobs/publish", json={"project_id": project["project_id"], "access_level": "unlisted"}
        )
    assert public.status_code == 201 and unlisted.status_code == 403


def _one_composition() -> dict[str, Any]:
    return {
        "add_media": {"a.wav": {"url": "https://cdn.example.com/a.wav"}},
        "add_compositions": [{"name": "Main", "clips": [{"media": "a.wav"}]}],
    }


# --- cancel ----------------------------------------------------------------------------------


def test_cancel_a_running_job_and_the_queue_moves_up() -> None:
    with serving(manual_clock=True, api_level="2026", job_seconds=10) as (running, api):
        project = api.post("/jobs/agent", json={"project_name": "P", "prompt": "Write"}).json()
        second = api.post(
            "/jobs/agent", json={"project_id": project["project_id"], "prompt": "Add captions"}
        ).json()
        advance_clock(running, 4)
        cancelled = api.delete(f"/jobs/{project['job_id']}")
        view = api.get(f"/jobs/{project['job_id']}").json()
        next_state = api.get(f"/jobs/{second['job_id']}").json()["job_state"]
        again = api.delete(f"/jobs/{project['job_id']}")
        advance_clock(running, 10)
        done = api.get(f"/jobs/{second['job_id']}").json()
        stopped = api.delete(f"/jobs/{second['job_id']}")
        unknown = api.delete(f"/jobs/{NOBODY}")
        listed = {j["job_id"]: j["job_state"] for j in api.get("/jobs").json()["data"]}
    assert cancelled.status_code == 204 and cancelled.content == b""
    assert view["job_state"] == "cancelled" and "result" not in view and view["stopped_at"]
    assert next_state == "running"  # started when the first was cancelled, not at its end
    assert again.status_code == 204  # cancelling a cancelled job changes nothing
    assert done["job_state"] == "stopped"
    assert stopped.status_code == 409 and stopped.json()["error"] == "conflict"
    assert "a stopped job cannot be cancelled" in stopped.json()["message"]
    assert unknown.status_code == 404
    assert listed[project["job_id"]] == "cancelled"


def test_cancel_a_queued_import_frees_its_media_names() -> None:
    with serving(manual_clock=True, api_level="2026", job_seconds=10) as (running, api):
        first = _imported(running, api, {"project_name": "P", **_one_composition()})
        more = {
            "project_id": first["project_id"],
            "add_media": {"b.wav": {"url": "https://cdn.example.com/b.wav"}},
        }
        queued = api.post("/jobs/import/project_media", json=more).json()
        clash = api.post("/jobs/import/project_media", json=more)
        api.delete(f"/jobs/{queued['job_id']}")
        advance_clock(running, 1)
        retry = api.post("/jobs/import/project_media", json=more)
    assert clash.status_code == 400 and retry.status_code == 201


# --- levels, methods, types ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/projects"),
        ("GET", f"/projects/{NOBODY}"),
        ("POST", "/jobs/publish"),
        ("DELETE", f"/jobs/{NOBODY}"),
    ],
)
def test_seed_level_answers_404_for_the_2026_routes(method: str, path: str) -> None:
    with serving() as (_running, api):
        reply = api.request(method, path, json={})
        jobs = api.get("/jobs", params={"type": "publish"})
    assert reply.status_code == 404 and reply.json()["error"] == "not_found"
    assert jobs.status_code == 400  # no publish job type before 2026


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/jobs/agent", "POST"),
        ("GET", "/jobs/import/project_media", "POST"),
        ("GET", "/jobs/publish", "POST"),
        ("PUT", f"/jobs/{NOBODY}", "DELETE, GET"),
        ("POST", "/jobs", "GET"),
        ("PATCH", "/projects", "GET"),
    ],
)
def test_an_undeclared_method_on_a_known_path_is_405(method: str, path: str, allow: str) -> None:
    with serving(api_level="2026") as (_running, api):
        reply = api.request(method, path)
        options = api.request("OPTIONS", path)
    assert reply.status_code == 405 and reply.headers["Allow"] == allow
    assert reply.json()["error"] == "method_not_allowed"
    assert options.status_code == 204 and options.headers["Allow"] == allow


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/jobs/import/project_media", {"project_name": 5}, "project_name must be a string"),
        ("/jobs/import/project_media", {"team_access": None}, '"team_access" must be one of'),
        ("/jobs/import/project_media", {"add_media": []}, "add_media must be an object"),
        (
            "/jobs/import/project_media",
            {"add_media": {"a.wav": {"url": "https://x.io/a.wav", "size": 1}}},
            "unknown field 'size'",
        ),
        (
            "/jobs/import/project_media",
            {"add_compositions": [{"name": "C"}]},
            "clips must be an array",
        ),
        (
            "/jobs/import/project_media",
            {"add_compositions": [{"clips": [], "width": 1.5}]},
            "width must be an integer",
        ),
        ("/jobs/import/project_media", {"project_id": "123"}, "Invalid project_id format"),
        ("/jobs/agent", {"project_name": "P", "prompt": 7}, "prompt is required"),
        (
            "/jobs/agent",
            {"project_name": "P", "prompt": "x", "model": False},
            "model must be a string",
        ),
        ("/jobs/agent", {"project_name": "P", "prompt": "x", "extra": 1}, "unknown field 'extra'"),
    ],
)
def test_a_wrong_type_in_a_documented_field_is_400(
    path: str, body: dict[str, Any], message: str
) -> None:
    with serving(api_level="2026") as (_running, api):
        reply = api.post(path, json=body)
        jobs = api.get("/jobs").json()["data"]
    assert reply.status_code == 400 and message in reply.json()["message"]
    assert jobs == []


def test_direct_upload_items_get_signed_upload_urls() -> None:
    body = {
        "project_name": "Upload",
        "add_media": {
            "talk.mp4": {"content_type": "video/mp4", "file_size": 52_428_800},
            "notes.pdf": {"content_type": "application/pdf", "file_size": 1000},
        },
    }
    with serving(manual_clock=True, api_level="2026") as (running, api):
        created = api.post("/jobs/import/project_media", json=body).json()
        advance_clock(running, 60)
        result = api.get(f"/jobs/{created['job_id']}").json()["result"]
        seed_level = inspect(running, "faults", {"api_level": "seed"})
        refused = api.post("/jobs/import/project_media", json=body)
    assert set(created["upload_urls"]) == {"talk.mp4", "notes.pdf"}
    assert urlsplit(created["upload_urls"]["talk.mp4"]["upload_url"]).query
    assert result["status"] == "partial"
    assert result["media_status"]["notes.pdf"]["status"] == "failed"
    assert seed_level.status_code == 200 and refused.status_code == 400
