"""Pausing the garbage collector while a large tree of objects is built.

Loading 10,000 projects or a state document of them allocates millions of objects that hold no
reference cycles; the collector would walk all of them again and again (a third of a plan's
time at that size) to free nothing. Inside `paused()` it does not run; outside, as usual.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
