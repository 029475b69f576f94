"""`edit-link`: the project schema posted to /v1/edit_in_descript/schema, the one-time URL and
its 3-hour expiry, the token's drive found and remembered, 403 for another drive, warnings for
pre-signed URLs expiring within 48 hours, and the URL never written to state or logs."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from descript_iac.workspace.presigned import expires_at, expiry_warning
from tests.builders import cli_env, inspect, run_cli, serving

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc).timestamp()
HOUR = 3600.0


def seed_a_job(api: httpx.Client) -> str:
    body = {"project_name": "P", "add_media": {"a.wav": {"url": "https://cdn.example.com/a.wav"}}}
    return str(api.post("jobs/import/project_media", json=body).json()["drive_id"])


def test_import_url_for_the_tokens_own_drive_found_from_a_job_and_remembered() -> None:
    with serving() as (running, api):
        drive = seed_a_job(api)
        result = run_cli(
            "edit-link",
            "--file",
            "https://cdn.example.com/jane.wav",
            "--name",
            "Jane's studio recording",
            "--start-offset",
            "10",
            "--source-id",
            "06b3f5bb-68a2-468a-a5d9-df155c1e3588",
            "--json",
            env=cli_env(running),
        )
        assert result.exit_code == 0, result.output
        link = json.loads(result.output)
        assert link["partner_drive_id"] == drive
        assert link["url"].startswith("https://web.descript.com/import?nonce=")
        expires = datetime.fromisoformat(link["expires_at"]).timestamp()
        assert abs(expires - datetime.now(timezone.utc).timestamp() - 3 * HOUR) < 60
        cached = list(Path.home().rglob("drive-ids.json"))
        assert [list(json.loads(p.read_text()).values()) for p in cached] == [[drive]]
        # The second link needs no lookup: the drive is remembered.
        before = inspect(running, "stats").json().get("requests", 0)
        text = run_cli("edit-link", "--file", "https://cdn.example.com/b.wav", env=cli_env(running))
        assert text.exit_code == 0
        assert text.output.splitlines()[-1].startswith("https://web.descript.com/import?nonce=")
        assert "expires at" in text.output and "in 3 hours" in text.output
        assert inspect(running, "stats").json().get("requests", 0) - before <= 2  # probe + the POST


def test_another_drive_is_refused_with_advice() -> None:
    with serving() as (running, _api):
        result = run_cli(
            "edit-link",
            "--file",
            "https://cdn.example.com/a.wav",
            "--partner-drive-id",
            "aa3b2d8d-e5ca-41c2-8801-683328293fb9",
            env=cli_env(running),
        )
        assert result.exit_code == 1
        assert "the API refused drive aa3b2d8d-e5ca-41c2-8801-683328293fb9 (403" in result.output
        assert "omit --partner-drive-id" in result.output


def test_a_drive_without_jobs_asks_for_the_drive_id() -> None:
    with serving() as (running, _api):
        result = run_cli(
            "edit-link", "--file", "https://cdn.example.com/a.wav", env=cli_env(running)
        )
        assert result.exit_code == 1
        assert "pass --partner-drive-id UUID" in result.output


def test_the_url_is_never_logged_nor_stored() -> None:
    with serving() as (running, api):
        seed_a_job(api)
        signed = "https://cdn.example.com/a.wav?X-Amz-Signature=SIGNATURE-abc123"
        result = run_cli("-v", "edit-link", "--file", signed, env=cli_env(running))
        assert result.exit_code == 0
        url = result.stdout.strip().splitlines()[-1]
        nonce = url.split("nonce=")[1]
        logged = result.stderr
        assert "POST /edit_in_descript/schema -> 201" in logged
        assert nonce not in logged and "SIGNATURE-abc123" not in logged
        for path in [*Path.home().rglob("*"), *Path(".").rglob("*")]:
            if path.is_file():
                text = path.read_text(errors="replace")
                assert nonce not in text and "SIGNATURE" not in text, path


def test_the_schema_sent_pairs_names_and_offsets_with_files(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/edit_in_descript/schema"):
            sent.append(json.loads(request.content))
            return httpx.Response(201, json={"url": "https://web.descript.com/import?nonce=n"})
        return httpx.Response(404, json={"error": "not_found", "message": "no"})

    from descript_iac.api import DescriptClient, Token
    from descript_iac.session import ApiTarget
    from descript_iac.workspace import edit_link as module

    def fake_client(target: ApiTarget):  # type: ignore[no-untyped-def]
        import contextlib

        @contextlib.contextmanager
        def opened():  # type: ignore[no-untyped-def]
            yield DescriptClient(
                "https://api.test/v1", Token("t-123456"), transport=httpx.MockTransport(handler)
            )

        return opened()

    monkeypatch.setattr(module, "open_client", fake_client)
    files = module.pair_files(("https://x.test/a.wav", "https://x.test/b.wav"), ("A",), (0.0, 2.5))
    module.edit_link(ApiTarget(), files, source_id="src", partner_drive_id="drive-1")
    assert sent == [
        {
            "partner_drive_id": "drive-1",
            "project_schema": {
                "schema_version": "1.0.0",
                "source_id": "src",
                "files": [
                    {"uri": "https://x.test/a.wav", "name": "A", "start_offset": {"seconds": 0.0}},
                    {"uri": "https://x.test/b.wav", "start_offset": {"seconds": 2.5}},
                ],
            },
        }
    ]
    with pytest.raises(Exception, match="2 --name for 1 --file"):
        module.pair_files(("https://x.test/a.wav",), ("A", "B"), ())


@pytest.mark.parametrize(
    ("query", "expires"),
    [
        ("X-Amz-Date=20260301T120000Z&X-Amz-Expires=3600&X-Amz-Signature=s", NOW + HOUR),
        (
            "x-goog-date=20260301T120000Z&x-goog-expires=604800&x-goog-signature=s",
            NOW + 7 * 24 * HOUR,
        ),
        (f"Expires={int(NOW + 5 * HOUR)}&Signature=s&Key-Pair-Id=k", NOW + 5 * HOUR),
        ("sv=2022-11-02&se=2026-03-02T12:00:00Z&sig=s", NOW + 24 * HOUR),
        ("sig=s", None),
        ("", None),
    ],
)
def test_pre_signed_url_expiry_is_read(query: str, expires: float | None) -> None:
    assert expires_at(f"https://cdn.example.com/a.wav?{query}") == expires


def test_a_warning_within_48_hours_never_shows_the_signature() -> None:
    soon = "https://s3.example.com/a.wav?X-Amz-Date=20260301T120000Z&X-Amz-Expires=36000&X-Amz-Signature=SECRETSIG"
    warning = expiry_warning("--file 1", soon, NOW)
    assert warning is not None
    assert warning.startswith("--file 1 (https://s3.example.com/a.wav): its pre-signed URL expires")
    assert "in 10.0 hours" in warning and "48 hours" in warning and "SECRETSIG" not in warning
    later = soon.replace("36000", str(49 * 3600))
    assert expiry_warning("--file 1", later, NOW) is None
    expired = expiry_warning("--file 1", soon, NOW + 11 * HOUR)
    assert expired is not None and "expired at 2026-03-01 22:00 UTC" in expired


def test_edit_link_prints_the_warning_before_sending() -> None:
    with serving() as (running, api):
        seed_a_job(api)
        soon = "https://cdn.example.com/a.wav?X-Amz-Date=20200101T000000Z&X-Amz-Expires=60&X-Amz-Signature=s"
        result = run_cli("edit-link", "--file", soon, env=cli_env(running))
        assert result.exit_code == 0
        assert "Warning: --file 1 (https://cdn.example.com/a.wav): its pre-signed URL expired" in (
            result.stderr
        )
