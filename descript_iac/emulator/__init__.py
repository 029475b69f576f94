"""A local emulator of the Descript API, faithful to the published docs.

Structured as moto structures a service: `routes` (thin HTTP layer), `backend` (the fake
service's state and rules), `exceptions` (the API's error codes). It imports nothing from
`descript_iac.api`: the two are independent readings of the Descript docs, so each checks the
other.
"""

from __future__ import annotations

from descript_iac.emulator.backend import Backend, EmulatorConfig
from descript_iac.emulator.clock import Clock, ManualClock, RealClock

__all__ = ["Backend", "Clock", "EmulatorConfig", "ManualClock", "RealClock"]
