"""The Descript API client: the only package that speaks HTTP.

Names are imported from their modules on first use, so that a module that only needs the API's
vocabulary (`api.capabilities`, `api.models`) does not bring httpx in with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from descript_iac.lazy import lazy_attributes

if TYPE_CHECKING:
    from descript_iac.api.client import DescriptClient, fingerprint
    from descript_iac.api.credentials import Credentials, Token, resolve
    from descript_iac.api.errors import ApiError, OutcomeUnknown, PaymentRequired
    from descript_iac.api.poller import BatchPoller, InFlight

_MODULES = {
    "DescriptClient": ".client",
    "fingerprint": ".client",
    "Credentials": ".credentials",
    "Token": ".credentials",
    "resolve": ".credentials",
    "ApiError": ".errors",
    "OutcomeUnknown": ".errors",
    "PaymentRequired": ".errors",
    "BatchPoller": ".poller",
    "InFlight": ".poller",
}


__getattr__ = lazy_attributes(globals(), _MODULES)


__all__ = [
    "ApiError",
    "BatchPoller",
    "Credentials",
    "DescriptClient",
    "InFlight",
    "OutcomeUnknown",
    "PaymentRequired",
    "Token",
    "fingerprint",
    "resolve",
]
