"""The agent's reply echoes the prompt, as Descript's does; yet the emulator's --data-dir never
holds a prompt's text nor a callback URL's query string, before or after a restart."""

from __future__ import annotations

from pathlib import Path

from tests.builders import advance_clock, serving

PROMPT_SECRET = "SENTINEL-prompt-5f1e9a"
CALLBACK_SECRET = "SENTINEL-hook-77c2d0"
CALLBACK = f"http://127.0.0.1:9/hook?token={CALLBACK_SECRET}"
MEDIA_SECRET = "SENTINEL-sig-0b3a41"


def _hits(directory: Path) -> list[str]:
    files = [f for f in directory.rglob("*") if f.is_file()]
    assert files  # the data dir is really used
    return [
        f"{f.name}: {secret}"
        for f in files
        for secret in (PROMPT_SECRET, CALLBACK_SECRET, MEDIA_SECRET)
        if secret.encode() in f.read_bytes()
    ]


def test_data_dir_holds_no_prompt_and_no_callback_query_string(tmp_path: Path) -> None:
    data = tmp_path / "emulator"
    prompt = f"Add captions and say {PROMPT_SECRET}"
    with serving(manual_clock=True, api_level="2026", data_dir=data) as (running, api):
        imported = api.post(
            "/jobs/import/project_media",
            json={
                "project_name": "Ep",
                "add_media": {"a.wav": {"url": f"https://b.example.com/a.wav?sig={MEDIA_SECRET}"}},
                "add_compositions": [{"name": "Main", "clips": [{"media": "a.wav"}]}],
                "callback_url": CALLBACK,
            },
        ).json()
        agent = api.post(
            "/jobs/agent",
            json={"project_id": imported["project_id"], "prompt": prompt, "callback_url": CALLBACK},
        ).json()
        create = api.post(
            "/jobs/agent",
            json={"project_name": "New", "prompt": prompt, "callback_url": CALLBACK},
        ).json()
        advance_clock(running, 60)
        comp = api.get(f"/jobs/{imported['job_id']}").json()["result"]["created_compositions"]
        api.post(
            "/jobs/publish",
            json={
                "project_id": imported["project_id"],
                "composition_id": comp[0]["id"],
                "callback_url": CALLBACK,
            },
        )
        queued = api.post(
            "/jobs/agent",
            json={"project_name": "Later", "prompt": prompt, "callback_url": CALLBACK},
        ).json()
        echoed = api.get(f"/jobs/{agent['job_id']}").json()["result"]["agent_response"]
        advance_clock(running, 60)
    assert echoed.startswith("Done! I've added karaoke-style captions")
    assert f'("{prompt}")' in echoed
    assert _hits(data) == []

    with serving(manual_clock=True, api_level="2026", data_dir=data) as (running, api):
        after = [api.get(f"/jobs/{j['job_id']}").json() for j in (agent, create, queued)]
        listed = {j["job_id"] for j in api.get("/jobs").json()["data"]}
        api.post("/jobs/agent", json={"project_name": "Again", "prompt": prompt})
        advance_clock(running, 60)
    assert {agent["job_id"], create["job_id"], queued["job_id"]} <= listed
    for job in after:
        reply = job["result"]["agent_response"]
        assert PROMPT_SECRET not in reply and "did not store this prompt" in reply
        assert f"{len(prompt)} characters" in reply
    assert _hits(data) == []
