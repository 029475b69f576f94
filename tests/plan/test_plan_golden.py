"""The plan of the benchmark-shaped workspace and of examples/, in its three formats, pinned byte
for byte (golden files made before the plan was made faster): a faster plan must say exactly
the same thing, and compute the same digests (a state records them; a changed digest would make
every applied project look changed).

Regenerate only for an intended change: UPDATE_SNAPSHOTS=1 pytest tests/plan/test_plan_golden.py
"""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import msgspec
import pytest

from descript_iac.config import load_workspace
from descript_iac.plan import Plan, PlanOptions, compute_plan, digests
from descript_iac.plan.markdown import render_markdown
from descript_iac.plan.render import render_text
from descript_iac.plan.report import render_json
from descript_iac.state.document import Intent, ProjectState, Quarantine, StateDocument
from descript_iac.workspace.saved import SavedPlan
from tests.builders import EXAMPLES, REPO, record_apply

GOLDEN = Path(__file__).parent / "golden"
SALT = "golden-salt-0123456789abcdef"
LINEAGE = "00000000-0000-4000-8000-00000000feed"
PROJECTS = 12


def _workload() -> ModuleType:
    spec = importlib.util.spec_from_file_location("workload", REPO / "benchmarks" / "workload.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _state() -> StateDocument:
    return StateDocument(lineage=LINEAGE, salt=SALT, serial=3)


def _bench(root: Path, edit: Callable[[str], str] = lambda text: text):  # type: ignore[no-untyped-def]
    workload = _workload()
    for path in workload.write_workspace(root, PROJECTS, per_file=5):
        path.write_text(edit(path.read_text()))
    return load_workspace(root, workload.ENV)


def _in_block(text: str, address: str, old: str, new: str) -> str:
    """`text` with `old` replaced by `new` inside project `address`'s block only."""
    start = text.find(f"  {address}:\n")
    if start < 0:
        return text
    end = text.find("\n  ep-", start + 1)
    end = len(text) if end < 0 else end
    block = text[start:end]
    assert old in block
    return text[:start] + block.replace(old, new) + text[end:]


def _edit(text: str) -> str:
    """The desired side of the mixed scenario: edits of projects applied as they were."""
    text = _in_block(text, "ep-00003", "ep3/guest.wav", "ep3/guest-v2.wav")  # import-time
    text = _in_block(text, "ep-00004", "Add karaoke-style captions", "Add red captions")
    text = _in_block(text, "ep-00006", '"Episode 6"', '"Episode six"')  # the name
    text = _in_block(  # an added medium: in place when the API can import into a project
        text,
        "ep-00007",
        "    compositions:\n",
        '      extra.wav: {url: "https://cdn.example.com/ep7/extra.wav?sig=abc"}\n'
        "    compositions:\n",
    )
    text = _in_block(  # a step added after the applied ones, with another model
        text,
        "ep-00011",
        "      - {id: chapters, prompt: Add chapter markers at each topic change}\n",
        "      - {id: chapters, prompt: Add chapter markers at each topic change}\n"
        "      - {id: reel, prompt: Make a 30-second reel | short, model: fast}\n",
    )
    return text


def _mixed(tmp: Path) -> tuple[object, StateDocument]:
    """Every kind of action at once: applied projects, edited ones, failed and running steps,
    one gone from the config, one in doubt, one quarantined, one without recorded values."""
    applied = _bench(tmp / "applied")
    doc = _state()
    projects = applied.projects
    addresses = sorted(projects)
    for k, address in enumerate(addresses):
        project = projects[address]
        ids = [s.id for s in project.spec.steps]
        if k == 1:  # never applied: created
            continue
        if k == 2:  # only the first two steps ran: the third runs
            record_apply(doc, project, steps={ids[0]: "success", ids[1]: "success"})
        elif k == 5:  # a failed step: re-run
            record_apply(doc, project, steps={ids[0]: "success", ids[1]: "error"})
        elif k == 8:  # a running step: awaited
            record_apply(doc, project, steps={ids[0]: "success", ids[1]: "running"})
        elif k == 9:  # a failed import: tainted, replaced
            record_apply(doc, project, import_status="error")
        else:
            record_apply(doc, project)
    # A project in the state only (removed from the config).
    gone = msgspec.structs.replace(projects[addresses[0]], address="ep-gone")
    record_apply(doc, gone)
    # A state older than format 3: no shown values (old side "not recorded").
    state = doc.projects[addresses[3]]
    assert state.facets is not None
    doc.projects[addresses[3]] = msgspec.structs.replace(
        state, facets=msgspec.structs.replace(state.facets, shown=None)
    )
    # One in doubt, one quarantined.
    doc.projects["ep-doubt"] = ProjectState(
        intents=[
            Intent(
                action="step",
                fingerprint="sha256:x",
                intent_id=str(uuid.UUID(int=1)),
                job_type="agent",
                outcome="unknown",
                reason="timed out",
                sent_at=1000.0,
                step_id="captions",
            )
        ]
    )
    doc.projects["ep-quarantined"] = ProjectState(
        quarantine=Quarantine(reason="two jobs match", candidates=["job-a", "job-b"])
    )
    desired = _bench(tmp / "desired", _edit)
    return desired, doc


def _example(name: str):  # type: ignore[no-untyped-def]
    """The example loaded from the checkout's root, so that the plan names its files the same
    way wherever the checkout and the test's working directory are."""
    here = os.getcwd()
    os.chdir(EXAMPLES.parent)
    try:
        return load_workspace(Path(EXAMPLES.name) / name, {})
    finally:
        os.chdir(here)


def _mixed_plan(tmp: Path, options: PlanOptions) -> Plan:
    desired, doc = _mixed(tmp)
    return compute_plan(desired.projects, doc, options)  # type: ignore[attr-defined]


def _applied_plan(tmp: Path) -> Plan:
    workspace = _bench(tmp)
    doc = _state()
    for project in workspace.projects.values():
        record_apply(doc, project)
    return compute_plan(workspace.projects, doc, PlanOptions())


SCENARIOS: dict[str, Callable[[Path], Plan]] = {
    "bench-empty": lambda tmp: compute_plan(_bench(tmp).projects, _state(), PlanOptions()),
    "bench-applied": _applied_plan,
    "bench-mixed": lambda tmp: _mixed_plan(tmp, PlanOptions()),
    "bench-mixed-allowed": lambda tmp: _mixed_plan(
        tmp,
        PlanOptions(
            allow_replace=True,
            allow_forget=True,
            import_into_existing=True,
            replace=("ep-00010",),
        ),
    ),
    "bench-targeted": lambda tmp: _mixed_plan(tmp, PlanOptions(targets=("ep-00002", "ep-00005"))),
    **{
        f"example-{name}": (
            lambda tmp, name=name: compute_plan(
                _example(name).projects, _state(), PlanOptions(), _example(name).moves
            )
        )
        for name in ("podcast", "prompt-only", "published", "quickstart")
    },
    "example-published-seed-api": lambda tmp: compute_plan(
        _example("published").projects, _state(), PlanOptions(api_features=(), api_level="seed")
    ),
}


@pytest.fixture(autouse=True)
def _fixed_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """Job and intent ids from a counter (record_apply makes them with uuid4): same every run."""
    counter = iter(range(1, 1 << 30))
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=next(counter)))


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_SNAPSHOTS"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"{name} is missing: make it with UPDATE_SNAPSHOTS=1 and review it"
    assert text == path.read_text(), f"{name} changed; rerun with UPDATE_SNAPSHOTS=1 if intended"


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_plan_output_is_unchanged(scenario: str, tmp_path: Path) -> None:
    plan = SCENARIOS[scenario](tmp_path)
    check_golden(f"{scenario}.txt", render_text(plan))
    check_golden(f"{scenario}.color.txt", render_text(plan, color=True))
    check_golden(f"{scenario}.md", render_markdown(plan))
    check_golden(f"{scenario}.json", render_json(plan))


@pytest.mark.parametrize("scenario", ["bench-mixed", "bench-empty"])
def test_saved_plan_reads_back_the_same(scenario: str, tmp_path: Path) -> None:
    """A plan saved with --out is validated when read back, and shows the same: equal records
    (the plan's sequences are tuples, as the reader makes them, so a list given where a tuple
    belongs makes them differ)."""
    plan = SCENARIOS[scenario](tmp_path)
    saved = SavedPlan(workspace="ws", state="state.json", plan=plan)
    again = msgspec.convert(msgspec.json.decode(msgspec.json.encode(saved)), SavedPlan).plan
    assert again == plan
    assert render_json(again) == render_json(plan)
    assert render_text(again) == render_text(plan)


def test_digests_of_a_fixed_project_are_unchanged(tmp_path: Path) -> None:
    """The digests a state records for one benchmark project (and the config digest): pinned."""
    workspace = _bench(tmp_path)
    project = workspace.projects["ep-00003"]
    want = digests.wanted(SALT, project)
    facets = digests.recorded_facets(SALT, project)
    lines = [
        f"facets_digest {want.facets_digest}",
        *(f"step {k} {v}" for k, v in want.steps.items()),
        f"facets {msgspec.json.encode(facets).decode()}",
        f"config {digests.config_digest(SALT, workspace.projects, {a: digests.wanted(SALT, p) for a, p in workspace.projects.items()})}",
    ]
    for name in ("podcast", "published"):
        example = _example(name)
        wanted = {a: digests.wanted(SALT, p) for a, p in example.projects.items()}
        lines.append(f"config {name} {digests.config_digest(SALT, example.projects, wanted)}")
        for address, w in sorted(wanted.items()):
            lines.append(f"{name} {address} {w.facets_digest} {sorted(w.steps.items())}")
            lines.append(f"{name} {address} {msgspec.json.encode(w.facets).decode()}")
    check_golden("digests.txt", "\n".join(lines) + "\n")
