"""An apply against a server whose rate-limit headers are nonsense (issue #27): Retry-After
1e12, nan, -5 or an HTTP date, X-RateLimit-* NaN, negative or huge, on every 429 and every
reply. The apply ends with a clean state (a second plan has nothing to do, nothing is in doubt),
each bad value is said once as a warning, and nothing crashes or sleeps for ever.

The process-wide rate limiter sleeps without waiting here (it counts an injected sleep as time
passed): a 120 s pause costs the test nothing, and every pause asked for is recorded."""

from __future__ import annotations

from email.utils import formatdate
from pathlib import Path
from time import time

import pytest

from descript_iac.api import ratelimit
from tests.builders import cli_env, run_cli, start_emulator, write_workspace

pytestmark = pytest.mark.e2e

WORKSPACE = """
version: 1
projects:
  ep-1:
    media:
      host.wav: {url: "https://cdn.example.com/ep1/host.wav"}
    compositions:
      - name: Full
        clips: [{media: host.wav}]
    steps:
      - {id: clean, prompt: Remove filler words}
  ep-2:
    steps:
      - {id: intro, prompt: Write a short intro}
"""

HOSTILE = {
    "retry-after-1e12": {"Retry-After": "1e12"},
    "retry-after-nan": {"Retry-After": "nan"},
    "retry-after-negative": {"Retry-After": "-5"},
    "retry-after-date": {"Retry-After": "DATE"},
    "counts": {
        "X-RateLimit-Limit": "inf",
        "X-RateLimit-Remaining": "-1",
        "X-RateLimit-Consumed": "nan",
        "X-RateLimit-Reset": "1e12",
    },
    "remaining-huge": {"X-RateLimit-Remaining": "1e300", "X-RateLimit-Reset": "-5"},
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_an_apply_survives_hostile_rate_headers(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(ratelimit, "_shared", ratelimit.RateLimiter(sleep=slept.append))
    headers = {
        k: formatdate(time() + 40, usegmt=True) if v == "DATE" else v
        for k, v in HOSTILE[case].items()
    }
    running = start_emulator(rate_limit=1000, rate_headers=headers, throttle_next=3)
    try:
        env = cli_env(running)
        root = write_workspace(tmp_path / "ws", {"main.yaml": WORKSPACE})
        state = str(tmp_path / "s.json")
        applied = run_cli("--state", state, "apply", str(root), "--auto-approve", env=env)
        again = run_cli("--state", state, "plan", str(root), "--forecast", "off", env=env)
        shown = run_cli("--state", state, "state", "show", "--workspace", str(root), env=env)
    finally:
        running.stop()
    assert applied.exit_code == 0, applied.output
    assert "Traceback" not in applied.output and "bug in descript-iac" not in applied.output
    assert again.exit_code == 0 and "No changes" in again.output, again.output
    assert "in doubt" not in shown.output and "open intent" not in shown.output.lower()
    for name, value in headers.items():
        said = [
            line
            for line in applied.output.splitlines()
            if f"Warning: the API sent {name} '" in line
        ]
        if value.endswith("GMT"):  # a date 40 s ahead is read, not refused
            assert said == [], applied.output
        else:
            assert len(said) == 1, (name, applied.output)  # once, however often it came
            assert f"{name} '{value}'" in said[0]
    assert all(0 <= s <= 132 for s in slept), slept  # never a NaN, never past one clamped pause
    if "Retry-After" in headers:
        assert len([s for s in slept if s > 0]) >= 3  # each of the three 429s waited out
    if headers.get("Retry-After") in ("1e12",) or "GMT" in headers.get("Retry-After", ""):
        assert "Warning: waiting " in applied.output and ", until " in applied.output


def test_a_long_pause_is_shown_above_the_live_display(tmp_path: Path) -> None:
    """On a terminal, a pause of 5 s or more is a permanent line above the live block, with
    its reason and end time, left once and whole. (This one waits for real: the CLI runs in a
    pseudo-terminal of its own; the scripted 429 asks for 5 s.)"""
    import re

    from tests.builders import run_in_terminal, terminal_lines

    running = start_emulator(next_posts=["429:5"])
    try:
        root = write_workspace(tmp_path / "ws", {"main.yaml": WORKSPACE})
        args = ["--state", str(tmp_path / "s.json"), "apply", str(root), "--auto-approve"]
        code, raw = run_in_terminal(args, cli_env(running), tmp_path, 160, 30)
    finally:
        running.stop()
    lines = terminal_lines(raw, 160, 30)
    assert code == 0, "\n".join(lines)
    waits = [line for line in lines if "Warning: waiting " in line]
    assert len(waits) == 1, "\n".join(lines)
    assert re.match(
        r"^\[\d\d:\d\d:\d\d\] Warning: waiting 5 s, until \d\d:\d\d:\d\d: the API answered 429 "
        r"Too Many Requests \(Retry-After 5 s\)$",
        waits[0],
    ), waits[0]
