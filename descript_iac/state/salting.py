"""The formulas of the salted digests a state records in place of plain values.

The plan computes them from the config (plan/digests.py); `state recover` recomputes them from
the plain values an intent kept, when a journal is folded into a state with another salt.
"""

from __future__ import annotations

from descript_iac.redact import salted_digest


def step_digest_of(salt: str, prompt: str, model: str, composition: str | None) -> str:
    """An agent step's digest: its prompt, model and (only when set) its target composition."""
    target = (composition,) if composition else ()
    return salted_digest(salt, "step", prompt, model, *target)


def name_digest(salt: str, name: str) -> str:
    return salted_digest(salt, "name", name)


def team_access_digest(salt: str, team_access: str) -> str:
    return salted_digest(salt, "team_access", team_access)
