"""Evidence before any create: the verdict per declared address (apply/existing.py is pure),
table-driven without a server."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from descript_iac.api.models import Job, ProjectSummary
from descript_iac.apply.existing import Declared, DriveView, existing, unrecorded
from tests.apply.test_resolve import SENT, job

EP = Declared("ep", "Episode 1", frozenset({"host.wav"}), frozenset({"Full"}))
SCRIPT = Declared("script", "Coffee script", frozenset(), frozenset())


def agent(job_id: str, project: str, at: float = SENT + 1) -> Job:
    return job(job_id, kind="agent", project=project, at=at)


def named(project: str, name: str) -> ProjectSummary:
    created = datetime.fromtimestamp(SENT, tz=timezone.utc).isoformat()
    return ProjectSummary.model_validate({"id": project, "name": name, "created_at": created})


CASES = [
    # (what, declared, view, expected {address: (kind, [project ids])})
    ("nothing in the history: create", [EP], DriveView([], frozenset()), {"ep": ("create", [])}),
    (
        "seed: an import made exactly the declared media and compositions",
        [EP],
        DriveView([job("j1", project="p1"), agent("j2", "p1", SENT + 5)], frozenset()),
        {"ep": ("exists", ["p1"])},
    ),
    (
        "seed: other media names are someone else's",
        [EP],
        DriveView([job("j1", project="p1", media=("guest.wav",))], frozenset()),
        {"ep": ("create", [])},
    ),
    (
        "seed: other composition names are someone else's",
        [EP],
        DriveView([job("j1", project="p1", comps=("Short",))], frozenset()),
        {"ep": ("create", [])},
    ),
    (
        "a project the state already manages is never a candidate",
        [EP],
        DriveView([job("j1", project="p1")], frozenset({"p1"})),
        {"ep": ("create", [])},
    ),
    (
        "seed: two look-alikes are unproven",
        [EP],
        DriveView([job("j1", project="p1"), job("j2", project="p2")], frozenset()),
        {"ep": ("unproven", ["p1", "p2"])},
    ),
    (
        "seed: a project whose first job is an agent's was not made by an import",
        [EP],
        DriveView([agent("j0", "p1"), job("j1", project="p1", at=SENT + 5)], frozenset()),
        {"ep": ("create", [])},
    ),
    (
        "seed, state kept: an agent-made project is not asked about",
        [SCRIPT],
        DriveView([agent("j1", "p1")], frozenset()),
        {"script": ("create", [])},
    ),
    (
        "seed, state missing or rebuilt: agent-made projects are unproven candidates",
        [SCRIPT],
        DriveView([agent("j1", "p1")], frozenset(), unproven_after=0.0),
        {"script": ("unproven", ["p1"])},
    ),
    (
        "seed, an older state: only agent-made projects newer than it",
        [SCRIPT],
        DriveView(
            [agent("j1", "p1", SENT - 100), agent("j2", "p2", SENT + 100)],
            frozenset(),
            unproven_after=SENT,
        ),
        {"script": ("unproven", ["p2"])},
    ),
    (
        "2026: one project of mine with the name exists",
        [SCRIPT],
        DriveView(
            [agent("j1", "p1")], frozenset(), named={"script": [named("p1", "Coffee script")]}
        ),
        {"script": ("exists", ["p1"])},
    ),
    (
        "2026: a substring match is not the name",
        [SCRIPT],
        DriveView([], frozenset(), named={"script": [named("p1", "Coffee script 2")]}),
        {"script": ("create", [])},
    ),
    (
        "2026: the name decides, even after a missing state",
        [SCRIPT],
        DriveView([agent("j1", "p1")], frozenset(), named={"script": []}, unproven_after=0.0),
        {"script": ("create", [])},
    ),
    (
        "2026: two of mine with the name are unproven",
        [SCRIPT],
        DriveView(
            [],
            frozenset(),
            named={"script": [named("p1", "Coffee script"), named("p2", "Coffee script")]},
        ),
        {"script": ("unproven", ["p1", "p2"])},
    ),
    (
        "a project two declarations match is proven for neither",
        [EP, Declared("ep2", "Episode 2", EP.media, EP.compositions)],
        DriveView([job("j1", project="p1")], frozenset()),
        {"ep": ("unproven", ["p1"]), "ep2": ("unproven", ["p1"])},
    ),
]


@pytest.mark.parametrize(("what", "declared", "view", "expected"), CASES, ids=[c[0] for c in CASES])
def test_verdict(
    what: str,
    declared: list[Declared],
    view: DriveView,
    expected: dict[str, tuple[str, list[str]]],
) -> None:
    verdicts = existing(declared, view)
    got = {a: (v.kind, [f.project_id for f in v.found]) for a, v in verdicts.items()}
    assert got == expected


def test_the_evidence_names_the_project_its_url_time_and_jobs() -> None:
    view = DriveView([job("j1", project="p1"), agent("j2", "p1", SENT + 5)], frozenset())
    (found,) = existing([EP], view)["ep"].found
    assert found.job_ids == ("j1", "j2")
    assert found.created_at is not None and found.created_at.timestamp() == SENT + 1
    assert "project p1" in found.describe() and "jobs: j1, j2" in found.describe()


STALE = [
    ("a job the state records is not stale", {"ep": ("p1", SENT)}, {"j1"}, []),
    ("an unrecorded agent job after the state's newest", {"ep": ("p1", SENT)}, set(), ["j1"]),
    ("before the state's newest: already accounted for", {"ep": ("p1", SENT + 10)}, set(), []),
    ("on a project the state does not manage", {"ep": ("p9", SENT)}, set(), []),
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
