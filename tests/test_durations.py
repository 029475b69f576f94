"""Durations on the command line: `10s`, `5m`, `1h` and plain seconds; bad input is a usage
error (exit 1) naming the option and what is accepted."""

from __future__ import annotations

from pathlib import Path

import pytest

from descript_iac.cli.durations import parse_duration
from tests.builders import run_cli


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30", 30.0), ("2.5", 2.5), ("10s", 10.0), ("5m", 300.0), ("1h", 3600.0), ("1.5m", 90.0)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "10x", "-5", "m", "5 minutes", "1e999"])
def test_bad_durations_say_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize("option", ["--lock-timeout", "--commit-span", "--history-lag"])
def test_every_duration_option_takes_units(option: str, tmp_path: Path) -> None:
    # `validate` reads the options and makes no API call; an empty workspace is enough.
    ok = run_cli(f"{option}=10s", "validate", str(tmp_path))
    assert "Invalid value" not in ok.output, ok.output
    bad = run_cli(f"{option}=10x", "validate", str(tmp_path))
    assert bad.exit_code == 1
    assert f"Invalid value for '{option}'" in bad.output
    assert "10s, 5m, 1h" in bad.output
