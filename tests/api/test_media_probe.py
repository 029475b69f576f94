"""Media durations read from the files themselves with a few range requests (issue #23), and
every way a media host can fail to give one: each a clear "unknown" within the bounds, never
zero, never a credential sent to another host."""

from __future__ import annotations

import io
import time
from pathlib import Path

import mutagen
import pytest

from descript_iac.api import media_probe
from descript_iac.api.media_probe import BLOCK, probe_client, probe_duration
from descript_iac.state.mediacache import MediaCache
from tests.media import files
from tests.media.server import media_host

FILES = {
    "a.wav": files.wav(3.5),
    "b.mp3": files.mp3(10),
    "c-end.mp4": files.mp4(123.456, moov_at_end=True, padding=3_000_000),
    "d-start.mp4": files.mp4(61.5, moov_at_end=False),
    "e.flac": files.flac(7.25),
    "long.wav": files.wav(1.0)[:44] + b"\0" * 100,  # a header only: the rest never fetched
}


def mutagen_length(data: bytes) -> float:
    parsed = mutagen.File(io.BytesIO(data))
    assert parsed is not None
    return float(parsed.info.length)


@pytest.mark.parametrize("name", ["a.wav", "b.mp3", "c-end.mp4", "d-start.mp4", "e.flac"])
def test_each_format_gives_the_files_own_duration_with_few_bytes(name: str) -> None:
    with media_host(FILES) as host, probe_client() as client:
        found = probe_duration(client, f"{host.url}/files/{name}?X-Amz-Signature=s3cret")
        requests = host.requests[f"/files/{name}"]
    assert found.seconds == mutagen_length(FILES[name]), found
    assert requests <= 4  # the moov at the end of 3 MB: the first block, then the tail


def test_a_host_without_ranges_is_read_up_to_the_byte_bound() -> None:
    with media_host(FILES) as host, probe_client() as client:
        assert probe_duration(client, f"{host.url}/norange/a.wav").seconds == 3.5


def test_a_redirect_to_the_same_host_is_followed() -> None:
    with media_host(FILES) as host, probe_client() as client:
        assert probe_duration(client, f"{host.url}/redirect-same/e.flac").seconds == 7.25


def test_a_redirect_to_another_host_is_not_followed_and_sends_it_nothing() -> None:
    with media_host(FILES) as host, media_host(FILES) as other, probe_client() as client:
        host.redirect_to = f"{other.url}/files/a.wav?X-Amz-Signature=s3cret"
        found = probe_duration(client, f"{host.url}/redirect-other/x?X-Amz-Signature=s3cret")
        assert sum(other.requests.values()) == 0
    assert found.seconds is None and "another host" in found.reason


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/forbidden/a.wav", "answered 403"),
        ("/forever/a.wav", "no answer within"),
        ("/huge/a.wav", "not a media file"),
        ("/files/missing.wav", "answered 404"),
    ],
)
def test_hostile_hosts_give_unknown_within_seconds(
    path: str, reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(media_probe, "DEADLINE", 2.0)
    with media_host(FILES) as host, probe_client() as client:
        started = time.monotonic()
        found = probe_duration(client, f"{host.url}{path}")
        took = time.monotonic() - started
    assert found.seconds is None and reason in found.reason, found
    assert took < 8  # a bound, not a timing: the deadline is 2 s, one read timeout 5 s


def test_a_file_probed_once_is_served_from_the_cache(tmp_path: Path) -> None:
    cache = MediaCache(tmp_path)
    with media_host(FILES) as host, probe_client() as client:
        first = probe_duration(client, f"{host.url}/files/c-end.mp4?sig=1", cache)
        before = host.requests["/files/c-end.mp4"]
        again = probe_duration(client, f"{host.url}/files/c-end.mp4?sig=2", cache)
        after = host.requests["/files/c-end.mp4"]
    assert first.seconds == again.seconds == 123.456
    assert again.cached and after - before == 1  # the first block (its ETag), nothing more
    cache.close()


def test_a_probe_reads_at_most_its_byte_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """An MP4 whose moov is at its end, with a bound of one block: unknown, one request."""
    monkeypatch.setattr(media_probe, "MAX_BYTES", BLOCK)
    with media_host(FILES) as host, probe_client() as client:
        found = probe_duration(client, f"{host.url}/files/c-end.mp4")
        assert host.requests["/files/c-end.mp4"] == 1
    assert found.seconds is None and "KiB would be read" in found.reason
