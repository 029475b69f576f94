"""Where notices meant for a person go while the library works: a rate limit's long pause, a
bad rate-limit header (api/ratelimit.py).

By default they are warnings of the `descript_iac.throttle` logger, for a program that uses the
library. A front end says where instead (`send_to`): the CLI prints them on stderr. Neither
imports `logging` until a notice is said: most commands never pause, and every command starts.
"""

from __future__ import annotations

from collections.abc import Callable

_sink: Callable[[str], None] | None = None


def send_to(sink: Callable[[str], None] | None) -> None:
    """Say every later notice through `sink` (None: through the logger again)."""
    global _sink
    _sink = sink


def say(text: str) -> None:
    if _sink is not None:
        _sink(text)
        return
    import logging

    logging.getLogger("descript_iac.throttle").warning("%s", text)
