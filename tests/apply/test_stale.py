"""A restored or older state: agent jobs on managed projects that the state does not record,
newer than the newest it records there (apply/stale.py is pure), table-driven without a server."""

from __future__ import annotations

import pytest

from descript_iac.api.models import Job
from descript_iac.apply.stale import unrecorded
from tests.apply.test_resolve import SENT, job


def agent(job_id: str, project: str, at: float = SENT + 1) -> Job:
    return job(job_id, kind="agent", project=project, at=at)


STALE = [
    ("a job the state records is not stale", {"ep": ("p1", SENT)}, {"j1"}, []),
    ("an unrecorded agent job after the state's newest", {"ep": ("p1", SENT)}, set(), ["j1"]),
    ("before the state's newest: already accounted for", {"ep": ("p1", SENT + 10)}, set(), []),
    ("on a project the state does not manage", {"ep": ("p9", SENT)}, set(), []),
    ("an import is not a step sent twice", {"ep": ("p1", SENT - 10)}, {"j1"}, []),
]


@pytest.mark.parametrize(
    ("what", "managed", "recorded", "expected"), STALE, ids=[s[0] for s in STALE]
)
def test_unrecorded_jobs_on_managed_projects(
    what: str, managed: dict[str, tuple[str, float]], recorded: set[str], expected: list[str]
) -> None:
    history = [agent("j1", "p1", SENT + 5), job("j0", project="p1")]
    found = unrecorded(history, managed, frozenset(recorded))
    assert [j for u in found for j in u.job_ids] == expected
