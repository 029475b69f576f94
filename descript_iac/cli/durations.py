"""Durations on the command line: `10s`, `5m`, `1h`, or plain seconds (`2.5`), as Terraform
spells them (`-lock-timeout=10s`)."""

from __future__ import annotations

import math
import re
from typing import Any

import click

_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION = re.compile(r"(?P<number>\d+(?:\.\d+)?|\.\d+)(?P<unit>[smh]?)")


def parse_duration(text: str) -> float:
    """Seconds in `text`; ValueError with what is accepted when it is not a duration."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None:
        raise ValueError(
            f"{text!r} is not a duration; use seconds (30), or a number with s, m or h "
            "(10s, 5m, 1h)"
        )
    seconds = float(match["number"]) * _UNITS[match["unit"]]
    if not math.isfinite(seconds):
        raise ValueError(f"{text!r} is too long a duration")
    return seconds


class Duration(click.ParamType):
    """A non-negative duration in seconds (a float), written `10s`, `5m`, `1h` or `30`."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, (int, float)):
            if value < 0:
                self.fail(f"{value} is negative; a duration is 0 or more", param, ctx)
            return float(value)
        try:
            return parse_duration(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


DURATION = Duration()
