"""The Descript API client: the only package that speaks HTTP."""

from __future__ import annotations

from descript_iac.api.client import DescriptClient, fingerprint
from descript_iac.api.credentials import Credentials, Token, resolve
from descript_iac.api.errors import ApiError, OutcomeUnknown, PaymentRequired
from descript_iac.api.poller import BatchPoller, InFlight

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
