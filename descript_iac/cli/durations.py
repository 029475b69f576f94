"""Durations on the command line, as Terraform's users write them: `10s`, `5m`, `1h`, `1h30m`,
or plain seconds (`90`, `0.5`)."""

from __future__ import annotations

import math
import re
from typing import Any

import click

_PART = re.compile(r"(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Seconds in `text`; ValueError with what is wrong."""
    value = text.strip().lower()
    try:
        seconds = float(value)
    except ValueError:
        parts = list(_PART.finditer(value))
        if not parts or "".join(p.group(0) for p in parts) != value:
            raise ValueError(
                f"{text!r} is not a duration: write seconds (90, 0.5) or a number with a unit "
                "(10s, 5m, 1h, 1h30m, 500ms)"
            ) from None
        seconds = sum(float(p.group(1)) * _UNITS[p.group(2)] for p in parts)
    if not math.isfinite(seconds):
        raise ValueError(f"{text!r} is not a finite duration")
    return seconds


class Duration(click.ParamType):
    """A click type for durations, at least `minimum` seconds."""

    name = "duration"

    def __init__(self, minimum: float = 0.0) -> None:
        self.minimum = minimum

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, (int, float)):
            seconds = float(value)
        else:
            try:
                seconds = parse_duration(str(value))
            except ValueError as exc:
                self.fail(str(exc), param, ctx)
        if seconds < self.minimum:
            self.fail(f"{value!r} is shorter than {self.minimum:g}s", param, ctx)
        return seconds

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "DURATION"
