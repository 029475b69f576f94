"""Pausing the garbage collector while a large tree of objects is built.

Loading 10,000 projects or a state document of them allocates millions of objects that hold no
reference cycles; the collector would walk all of them again and again (a third of a plan's
time at that size) to free nothing. Inside `paused()` it does not run; what was built there is
then frozen out of its sight; outside, it runs as usual on everything newer.
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
        # What was built is moved out of the collector's sight (`gc.freeze`): else the first
        # collection after this walks all of it (a full pass, for the many new objects) only to
        # find nothing. Reference counting still frees it; only cycles are the collector's.
        gc.freeze()
        if was_enabled:
            gc.enable()
