"""A plan's probes share one time budget (workspace/forecasting.py): thousands of new media on a
slow or unreachable host do not hold a plan; what was not probed in time is unknown, said so."""

from __future__ import annotations

import threading

import pytest

from descript_iac.api.media_probe import Probe
from descript_iac.workspace import forecasting


def test_probes_past_the_budget_are_unknown_not_waited_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(forecasting, "DEADLINE", 0.5)
    release = threading.Event()

    def probe(url: str) -> Probe:
        if url.endswith("fast.wav"):
            return Probe(12.5)
        release.wait(10)  # a host that does not answer within the plan's budget
        return Probe(1.0)

    urls = ["https://a.example/fast.wav"] + [f"https://b.example/{i}.wav" for i in range(40)]
    try:
        found = forecasting._probe_all(urls, probe)
    finally:
        release.set()
    assert found["https://a.example/fast.wav"].seconds == 12.5
    slow = [found[u] for u in urls[1:]]
    assert all(p.seconds is None and "were spent" in p.reason for p in slow)
