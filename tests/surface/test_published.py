"""`published SLUG`: metadata and WEBVTT subtitles; a 404 slug; the documented 1,000 requests
an hour honoured on both sides: a client-side budget shared by this machine's runs (nothing is
sent once it is used up) and the server's 429 + Retry-After (waited out when short, reported with
its time when long)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from descript_iac.api import DescriptClient, Token, errors
from descript_iac.api.budget import HourlyBudget
from descript_iac.api.ratelimit import RateLimiter
from descript_iac.state.budget import SharedBudget
from tests.builders import TOKEN, advance_clock, cli_env, inspect, run_cli, serving


def published_slug(running, api: httpx.Client) -> str:  # type: ignore[no-untyped-def]
    body = {
        "project_name": "Episode 42",
        "add_media": {"host.wav": {"url": "https://cdn.example.com/ep42/host.wav"}},
    }
    project_id = api.post("jobs/import/project_media", json=body).json()["project_id"]
    return str(inspect(running, f"projects/{project_id}/publish", {}).json()["slug"])


def test_published_shows_metadata_and_writes_subtitles(tmp_path: Path) -> None:
    with serving(job_seconds=0) as (running, api):
        slug = published_slug(running, api)
        out = tmp_path / "captions" / "ep42.vtt"
        result = run_cli("published", slug, "--subtitles", str(out), env=cli_env(running))
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert lines[0] == "Title: Episode 42"
        assert lines[1].startswith("Duration: 00:")
        assert lines[2].startswith("Published by: Emulated User on ")
        assert lines[3:5] == ["Privacy: unlisted", "Publish type: video"]
        assert out.read_text().startswith("WEBVTT\n") and "host.wav" in out.read_text()
        data = json.loads(run_cli("published", slug, "--json", env=cli_env(running)).stdout)
        assert data["metadata"]["title"] == "Episode 42" and "subtitles" not in data


def test_an_unknown_slug_is_a_404_with_advice() -> None:
    with serving() as (running, _api):
        result = run_cli("published", "no-such-slug", env=cli_env(running))
        assert result.exit_code == 1
        assert "published project 'no-such-slug': not found (404)" in result.output
        assert "https://share.descript.com/view/SLUG" in result.output


def test_a_long_retry_after_is_reported_with_its_time_not_waited_out() -> None:
    with serving(throttle_next=1, retry_after=3000) as (running, _api):
        result = run_cli("published", "any-slug", env=cli_env(running))
        assert result.exit_code == 1
        assert "429 rate limited by the API; try again in 3000s (at " in result.output
        # The pause is remembered: the next run stops before sending.
        before = inspect(running, "stats").json().get("requests", 0)
        again = run_cli("published", "any-slug", env=cli_env(running))
        assert again.exit_code == 1 and "Nothing was sent" in again.output
        assert inspect(running, "stats").json().get("requests", 0) == before


def test_a_short_retry_after_is_waited_out_and_the_request_succeeds() -> None:
    with serving(manual_clock=True, job_seconds=0) as (running, api):
        slug = published_slug(running, api)
        inspect(running, "faults", {"throttle_next": 2, "retry_after": 30})
        waited: list[float] = []

        def sleep(seconds: float) -> None:  # the client's waits move the emulator's clock
            waited.append(seconds)
            advance_clock(running, seconds)

        client = DescriptClient(
            running.base_url, Token(TOKEN), limiter=RateLimiter(sleep=sleep), sleep=sleep
        )
        with client:
            page = client.published_project(slug)
        assert page.metadata is not None and page.metadata.title == "Episode 42"
        assert len(waited) == 2 and all(30 <= w <= 33.1 for w in waited)


def test_the_client_side_budget_stops_before_the_server_has_to() -> None:
    with serving(job_seconds=0) as (running, api):
        slug = published_slug(running, api)
        client = DescriptClient(running.base_url, Token(TOKEN), sleep=lambda s: None)
        client.published_budget = HourlyBudget(limit=3)
        with client:
            for _ in range(3):
                client.published_project(slug)
            before = inspect(running, "stats").json().get("requests", 0)
            with pytest.raises(errors.BudgetExhausted, match="allows 3 requests an hour"):
                client.published_project(slug)
        assert inspect(running, "stats").json().get("requests", 0) == before


def test_the_budget_is_shared_by_every_run_on_the_machine(tmp_path: Path) -> None:
    now = time.time()
    path = tmp_path / "budget.json"
    first, second = SharedBudget(path, 2, 3600.0), SharedBudget(path, 2, 3600.0)
    assert first.take(now) == 0 and second.take(now + 1) == 0
    assert first.take(now + 2) == pytest.approx(3598.0)
    assert second.take(now + 3601) == 0  # the oldest left the hour
    with serving() as (running, _api):
        account = DescriptClient(running.base_url, Token(TOKEN)).account_key
        ledger = Path.home() / ".cache" / "descript-iac" / "drives" / account
        ledger.mkdir(parents=True)
        times = {"times": [now - 10] * 1000, "held": 0}  # 1,000 reads by other runs just now
        (ledger / "published-budget.json").write_text(json.dumps(times))
        before = inspect(running, "stats").json().get("requests", 0)
        result = run_cli("published", "any-slug", env=cli_env(running))
        assert result.exit_code == 1
        assert "allows 1000 requests an hour for published projects" in result.output
        assert inspect(running, "stats").json().get("requests", 0) == before


def test_hourly_budget_counts_a_sliding_hour() -> None:
    budget = HourlyBudget(limit=2, window=3600.0)
    assert budget.take(0) == 0 and budget.take(10) == 0
    assert budget.take(20) == 3580
    assert budget.take(3600) == 0
    budget.hold_until(5000)
    assert budget.take(4000) == 1000


def test_an_absurd_retry_after_is_reported_as_a_day_not_a_crash() -> None:
    """Issue #27: `Retry-After: 1e12` would put the next try 31,000 years away (past any date
    the machine can print): it is taken as a day at most, said, and nothing crashes."""
    with serving(throttle_next=1, rate_headers={"Retry-After": "1e12"}) as (running, _api):
        result = run_cli("published", "any-slug", env=cli_env(running))
    assert result.exit_code == 1, result.output
    assert "429 rate limited by the API; try again in 86400s (at " in result.output
    assert "bug in descript-iac" not in result.output
    assert "Warning: the API sent Retry-After '1e12' is over 86400 s" in result.output
