"""Colour: on a terminal unless NO_COLOR is set (no-color.org); --color/--no-color win."""

from __future__ import annotations

import pytest

from descript_iac.cli import context
from descript_iac.cli.context import Globals


@pytest.mark.parametrize(
    "flag, no_color, tty, expected",
    [
        (None, None, True, True),
        (None, "1", True, False),
        (None, None, False, False),
        (True, "1", False, True),
        (False, None, True, False),
    ],
)
def test_colour(
    monkeypatch: pytest.MonkeyPatch,
    flag: bool | None,
    no_color: str | None,
    tty: bool,
    expected: bool,
) -> None:
    monkeypatch.setattr(context, "is_tty", lambda: tty)
    if no_color is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color)
    assert context.use_color(Globals(None, None, False, 0.0, flag)) is expected
