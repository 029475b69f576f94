"""A drive is what the API says it is: every spelling of the API's URL and every token of one
drive share one registry of gates and recorded jobs (state/drive_identity.py), learnt from the
`drive_id` of the emulator's job replies over a real socket."""

from __future__ import annotations

import json
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from descript_iac.api import DescriptClient, Token
from descript_iac.api.client import canonical_url
from descript_iac.session import ApiTarget, open_registry
from descript_iac.state.drive import Blocked, Claim, LocalDriveRegistry, gate_key
from descript_iac.state.drive_identity import TokenDriveRegistry
from tests.builders import TOKEN, start_emulator

SECOND = "test-token-second-of-the-drive"
OTHER_DRIVE = "test-token-of-another-drive"
IMPORT = {"project_name": "P", "add_media": {"a.wav": {"url": "https://cdn.example.com/a.wav"}}}


@pytest.fixture
def running() -> Iterator[object]:
    emulator = start_emulator(tokens=(TOKEN, SECOND, OTHER_DRIVE), shared_drives={SECOND: TOKEN})
    yield emulator
    emulator.stop()


def _post_import(base_url: str, token: str) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    reply = httpx.post(f"{base_url}/jobs/import/project_media", json=IMPORT, headers=headers)
    reply.raise_for_status()
    return dict(reply.json())


def _spellings(port: int) -> list[str]:
    return [
        f"http://127.0.0.1:{port}/v1",
        f"http://127.0.0.1:{port}/v1/",
        f"http://localhost:{port}/v1",
        f"HTTP://LocalHost:{port}/v1/",
    ]


def _open(target: ApiTarget, url: str, token: str) -> TokenDriveRegistry:
    client = DescriptClient(url, Token(token))
    registry = open_registry(target, client)
    assert isinstance(registry, TokenDriveRegistry)
    return registry


def _drive_dir(registry: TokenDriveRegistry) -> str:
    assert isinstance(registry.drive, LocalDriveRegistry)
    return registry.drive.dir.name


def test_every_spelling_and_both_tokens_of_a_drive_map_to_one_key(
    running: object, tmp_path: Path
) -> None:
    port = running.port  # type: ignore[attr-defined]
    base = running.base_url  # type: ignore[attr-defined]
    drive_id = _post_import(base, TOKEN)["drive_id"]  # the history now shows the drive
    assert _post_import(base, SECOND)["drive_id"] == drive_id  # the emulator's two tokens
    target = ApiTarget(drives_dir=tmp_path / "drives", cache_dir=None)
    registries = [_open(target, url, t) for t in (TOKEN, SECOND) for url in _spellings(port)]
    assert len({_drive_dir(r) for r in registries}) == 1
    other = _open(target, _spellings(port)[0], OTHER_DRIVE)
    assert other.drive is None  # another drive, with no job yet: not known, not shared

    # One gate set: a gate taken under one name blocks every other name of the drive.
    now = time.time()
    first, *rest = registries
    assert isinstance(first.claim(gate_key("agent", None), "intent-1", now + 60, now), Claim)
    for registry in rest:
        assert isinstance(registry.claim(gate_key("agent", None), "i-2", now + 60, now), Blocked)
    assert isinstance(other.claim(gate_key("agent", None), "i-3", now + 60, now), Claim)
    # One list of recorded jobs.
    first.record_jobs({"job-1"})
    assert all("job-1" in r.recorded_jobs() for r in rest)
    assert "job-1" not in other.recorded_jobs()
    for registry in [*registries, other]:
        registry.close()

    # Learnt once per URL spelling and token, kept private to the user.
    ids = tmp_path / "drives" / "drive-ids.json"
    assert set(json.loads(ids.read_text()).values()) == {drive_id}
    assert stat.S_IMODE(ids.stat().st_mode) == 0o600


def test_url_spellings_have_one_canonical_form() -> None:
    assert {
        canonical_url(u)
        for u in (
            "https://api.example.com/v1",
            "https://api.example.com/v1/",
            "HTTPS://API.Example.COM/v1",
            "https://api.example.com:443/v1/",
        )
    } == {"https://api.example.com/v1"}
    assert canonical_url("http://127.0.0.1:8080/v1/") == "http://127.0.0.1:8080/v1"


def test_a_drive_with_no_job_is_learnt_from_the_first_reply(
    running: object, tmp_path: Path
) -> None:
    """Until the drive is known, the token's gates are taken (every spelling of the token
    shares them); the first job reply names the drive, and from then on its gates are taken
    too (the gates held before as well), and the jobs recorded before are recorded there."""
    port = running.port  # type: ignore[attr-defined]
    target = ApiTarget(drives_dir=tmp_path / "drives", cache_dir=None)
    client = DescriptClient(_spellings(port)[0], Token(TOKEN))
    learning = open_registry(target, client)
    assert isinstance(learning, TokenDriveRegistry) and learning.drive is None
    same_token = _open(target, _spellings(port)[3], TOKEN)
    now = time.time()
    held = learning.claim(gate_key("import/project_media", None), "i-1", now + 60, now)
    assert isinstance(held, Claim)
    blocked = same_token.claim(gate_key("import/project_media", None), "i-2", now + 60, now)
    assert isinstance(blocked, Blocked)  # the token's gate, whatever the URL's spelling
    learning.record_jobs({"job-before"})

    created = _post_import(_spellings(port)[0], TOKEN)  # stands in for the run's first POST
    client.get_job(created["job_id"])  # a job reply: the client now knows its drive
    assert learning.recorded_jobs() >= {"job-before"}
    assert learning.drive is not None
    second_token = _open(target, _spellings(port)[2], SECOND)  # learns from the history
    assert _drive_dir(second_token) == _drive_dir(learning)
    assert "job-before" in second_token.recorded_jobs()
    # The gate held while the drive was unknown is now the drive's: another token waits.
    late = second_token.claim(gate_key("import/project_media", None), "i-4", now + 60, now)
    assert isinstance(late, Blocked)
    learning.release(held)
    free = second_token.claim(gate_key("import/project_media", None), "i-4", now + 60, now)
    assert isinstance(free, Claim)
    for registry in (learning, same_token, second_token):
        registry.close()
    client.close()


def test_with_postgresql_state_two_machines_and_two_spellings_share_the_drive(
    running: object, tmp_path: Path, pg_url: str
) -> None:
    """Two machines (two cache directories), one on `127.0.0.1` with one token, the other on
    `localhost` with the drive's other token, share gates and recorded jobs through the
    database."""
    from descript_iac.state.pgdatabase import Database
    from descript_iac.state.postgres import PostgresStateStore

    port = running.port  # type: ignore[attr-defined]
    _post_import(running.base_url, TOKEN)  # type: ignore[attr-defined]
    opened = []
    for machine, url, token in (
        ("m1", _spellings(port)[0], TOKEN),
        ("m2", _spellings(port)[3], SECOND),
    ):
        target = ApiTarget(drives_dir=tmp_path / machine, cache_dir=None)
        store = PostgresStateStore(Database(pg_url, "descript_iac"), "ws")
        registry = open_registry(target, DescriptClient(url, Token(token)), store)
        assert isinstance(registry, TokenDriveRegistry)
        opened.append(registry)
    one, two = opened
    now = time.time()
    assert isinstance(one.claim(gate_key("agent", None), "i-1", now + 60, now), Claim)
    assert isinstance(two.claim(gate_key("agent", None), "i-2", now + 60, now), Blocked)
    one.record_jobs({"job-1"})
    assert "job-1" in two.recorded_jobs()
    for registry in opened:
        registry.close()


def test_gates_and_jobs_kept_by_an_earlier_version_still_count(
    running: object, tmp_path: Path
) -> None:
    """Earlier versions kept a drive's gates under the URL as spelt and the token: a window
    left there by a run that stopped still blocks its gate, and its recorded jobs are still
    excluded, until they are gone."""
    url = _spellings(running.port)[0]  # type: ignore[attr-defined]
    _post_import(url, TOKEN)
    target = ApiTarget(drives_dir=tmp_path / "drives", cache_dir=None)
    client = DescriptClient(url, Token(TOKEN))
    old = LocalDriveRegistry(target.drives_dir / client.account_key)
    now = time.time()
    left = old.claim(gate_key("agent", None), "old-intent", now + 300, now)
    assert isinstance(left, Claim)
    old.leave(left)  # the run stopped in doubt: its window stays
    old.record_jobs({"old-job"})
    old.close()
    registry = open_registry(target, client)
    blocked = registry.claim(gate_key("agent", None), "new-intent", now + 60, now)
    assert isinstance(blocked, Blocked) and blocked.until == now + 300
    assert "old-job" in registry.recorded_jobs()
    registry.close()
