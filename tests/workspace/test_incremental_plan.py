"""The incremental plan (workspace/incremental.py) is the full plan, byte for byte.

A differential test: random edits to a 500-project workspace and to its state, and after each
one the plan a user gets (incremental whenever the cache allows) against a full plan with no
cache at all, compared in all three formats. Run with the cache key left without the state
entries' digests, it fails: a project whose state entry changed is taken as up to date.
"""

from __future__ import annotations

import random
import re
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from descript_iac.cli import main
from descript_iac.config import load_workspace
from descript_iac.plan import PlanOptions
from descript_iac.plan.diff import plan_and_digests
from descript_iac.plan.markdown import render_markdown
from descript_iac.plan.render import render_text
from descript_iac.plan.report import render_json
from descript_iac.state.store import LocalStateStore
from descript_iac.workspace import RunSettings, incremental, plan_workspace
from descript_iac.workspace.incremental import plan_incrementally, remember_full, state_identity

EPISODE = """  ep-{i:05d}:
    name: "Episode {i}"
    media:
      intro.mp4: {{url: "https://cdn.example.com/show/intro.mp4"}}
      host.wav: {{url: "https://cdn.example.com/ep{i}/host.wav?${{env:SIG}}"}}
    steps:
      - {{id: cleanup, prompt: Remove filler words}}
      - {{id: captions, prompt: Add captions}}
"""
PER_FILE = 25
# The plan options the random edits switch between (each changes what a plan says).
OPTION_CHOICES = [
    PlanOptions(),
    PlanOptions(allow_replace=True),
    PlanOptions(allow_forget=True),
    PlanOptions(import_into_existing=True),
]


def _write(root: Path, first: int, count: int) -> Path:
    body = "".join(EPISODE.format(i=i) for i in range(first, first + count))
    path = root / f"episodes-{first:05d}.yaml"
    path.write_text(f"version: 1\nprojects:\n{body}")
    return path


def _applied(root: Path, state: Path) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
    from workload import applied_state

    LocalStateStore(state).commit(applied_state(load_workspace(root)))


def _outputs(settings: RunSettings, options: PlanOptions) -> tuple[str, str, str, str]:
    plan = plan_workspace(settings, options).plan
    # (the config digest, which a saved plan carries, too)
    return render_text(plan), render_json(plan), render_markdown(plan), plan.config_digest


def _edit_file(rng: random.Random, root: Path, counter: list[int]) -> str:
    files = sorted(root.glob("*.yaml"))
    path = rng.choice(files)
    text = path.read_text()
    addresses = re.findall(r"^  (ep-\d+):", text, re.M)
    kind = rng.choice(["step", "prompt", "url", "project", "remove", "file", "defaults", "noop"])
    if kind == "defaults":
        model = rng.choice(["", "model: fast\n", "model: slow\n"])
        (root / "defaults.yaml").write_text(f"version: 1\ndefaults:\n  {model}" if model else "")
        if not model:
            (root / "defaults.yaml").unlink()
        return kind
    if kind == "file":
        counter[0] += 1
        _write(root, 10_000 + counter[0] * 10, 3)
        return kind
    if not addresses:
        return "none"
    address = rng.choice(addresses)
    start = text.index(f"  {address}:\n")
    end = text.find("\n  ep-", start + 1)
    end = len(text) if end < 0 else end + 1
    block = text[start:end]
    if kind == "step":
        block = block.rstrip("\n") + f"\n      - {{id: s{rng.randrange(999)}, prompt: More}}\n"
    elif kind == "prompt":
        block = block.replace("Add captions", "Add captions now", 1)
    elif kind == "url":
        block = block.replace('intro.mp4"', f'intro-{rng.randrange(99)}.mp4"', 1)
    elif kind == "project":
        counter[0] += 1
        block += EPISODE.format(i=20_000 + counter[0])
    elif kind == "remove":
        block = ""
    path.write_text(text[:start] + block + text[end:])
    return kind


def applied_workspace(tmp_path: Path, projects: int, per_file: int = PER_FILE) -> tuple[Path, Path]:
    """A workspace of `projects` in files of `per_file`, applied: its root and its state."""
    root, state = tmp_path / "ws", tmp_path / "state.json"
    root.mkdir()
    for first in range(0, projects, per_file):
        _write(root, first, per_file)
    _applied(root, state)
    return root, state


def _edit_state(rng: random.Random, state: Path) -> str:
    store = LocalStateStore(state)
    doc = store.read()
    address = rng.choice(sorted(doc.projects))
    project = doc.projects[address]
    kind = rng.choice(["fail", "drop-step", "forget"])
    if kind == "fail" and project.steps:
        project.steps[-1].status = "error"
        project.steps[-1].error_message = "boom"
    elif kind == "drop-step" and project.steps:
        project.steps.pop()
    else:
        del doc.projects[address]
    store.commit(doc)
    return kind


def test_incremental_plan_is_the_full_plan_after_random_edits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIG", "X-Amz-Signature=abc")
    # Every file is remembered by the plan after its edit, however recent: the edits are made
    # between plans, a round (four plans) apart. (A plan trusts no file written in the 2 s
    # before it starts, which would otherwise leave the first rounds' files unremembered and
    # what this test can see depend on how fast it runs: the guard has its own test below.)
    monkeypatch.setattr(incremental, "_SETTLED", 0)
    root, state = applied_workspace(tmp_path, 500)
    cached = RunSettings(root, state_path=state, workspace_cache=tmp_path / "cache")
    full = RunSettings(root, state_path=state, workspace_cache=None)
    choices = OPTION_CHOICES
    options = choices[0]
    rng = random.Random(26)
    counter = [0]
    assert _outputs(cached, options) == _outputs(full, options)  # the full plan fills the cache
    used = 0
    for round_ in range(30):
        what = _edit_state(rng, state) if rng.random() < 0.3 else _edit_file(rng, root, counter)
        if rng.random() < 0.1:
            monkeypatch.setenv("SIG", f"X-Amz-Signature={rng.randrange(3)}")
        if rng.random() < 0.2:
            options = rng.choice(choices)
        for _ in range(2):  # after a state edit the first plan is a full one, the second not
            quick = plan_incrementally(root, cached.store, options, cached.workspace_cache)
            used += quick is not None
            got, want = _outputs(cached, options), _outputs(full, options)
            for form, a, b in zip(("text", "json", "markdown", "digest"), got, want, strict=True):
                assert a == b, f"round {round_} ({what}): the {form} plans differ"
    assert used >= 30  # most plans were incremental


def test_a_file_written_just_before_a_plan_is_loaded_again_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file written less than 2 s before a plan starts may have changed between that plan's
    load of it and its read of the file's bytes (and a status taken within the clock's tick
    can miss a write): the plan does not remember it, and the next plan loads it again."""
    monkeypatch.setenv("SIG", "X-Amz-Signature=abc")
    root, state = applied_workspace(tmp_path, 50)
    cached = RunSettings(root, state_path=state, workspace_cache=tmp_path / "cache")
    loaded: list[int] = []
    real = incremental.load_workspace

    def counting(root: Path, **kw):  # type: ignore[no-untyped-def]
        loaded.append(len(kw["only"]))
        return real(root, **kw)

    monkeypatch.setattr(incremental, "load_workspace", counting)
    plan_workspace(cached, PlanOptions())  # the full plan: it indexes the state
    for _ in range(2):
        assert plan_incrementally(root, cached.store, PlanOptions(), tmp_path / "cache")
    assert loaded == [2, 2]  # the files written just now, loaded by each plan
    old = time.time_ns() - 3_000_000_000  # the same files, as if written 3 s ago
    monkeypatch.setattr(incremental.time, "time_ns", lambda: old + 6_000_000_000)
    assert plan_incrementally(root, cached.store, PlanOptions(), tmp_path / "cache")
    assert plan_incrementally(root, cached.store, PlanOptions(), tmp_path / "cache")
    assert loaded[2:] == [2, 0]  # remembered by the plan that found them settled


def test_what_the_cache_does_not_know_takes_the_full_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A leftover journal, --target and --replace, a `moved:` block: the full plan, which is
    what a user sees (the same outputs)."""
    monkeypatch.setenv("SIG", "X-Amz-Signature=abc")
    root, state = tmp_path / "ws", tmp_path / "state.json"
    root.mkdir()
    for first in range(0, 50, PER_FILE):
        _write(root, first, PER_FILE)
    _applied(root, state)
    cached = RunSettings(root, state_path=state, workspace_cache=tmp_path / "cache")
    full = RunSettings(root, state_path=state, workspace_cache=None)
    _outputs(cached, PlanOptions())

    def quick(options: PlanOptions) -> bool:
        found = plan_incrementally(root, cached.store, options, cached.workspace_cache)
        return found is not None

    assert quick(PlanOptions())
    for options in (PlanOptions(targets=("ep-00003",)), PlanOptions(replace=("ep-00003",))):
        assert not quick(options)
        assert _outputs(cached, options) == _outputs(full, options)
    journal = state.with_name(state.name + ".journal")
    journal.write_text("")
    assert not quick(PlanOptions())
    journal.unlink()
    moved = root / "moved.yaml"
    moved.write_text("version: 1\nmoved:\n  - {from: ep-00001, to: ep-99999}\n")
    path = root / "episodes-00000.yaml"
    path.write_text(path.read_text().replace("ep-00001:", "ep-99999:"))
    assert not quick(PlanOptions())
    assert _outputs(cached, PlanOptions()) == _outputs(full, PlanOptions())


def test_the_cli_plan_is_incremental_and_says_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIG", "X-Amz-Signature=abc")
    root, state = tmp_path / "ws", tmp_path / "state.json"
    root.mkdir()
    for first in range(0, 100, PER_FILE):
        _write(root, first, PER_FILE)
    _applied(root, state)
    runner = CliRunner()
    argv = ["--state", str(state), "plan", str(root), "--forecast", "off"]
    first = runner.invoke(main, argv)
    assert first.exit_code == 0, first.output
    assert "No changes. 100 projects are up to date." in first.output
    path = root / "episodes-00025.yaml"
    path.write_text(path.read_text() + EPISODE.format(i=999))
    settings = RunSettings(root, state_path=state)
    assert plan_incrementally(root, settings.store, PlanOptions(), settings.workspace_cache)
    for fmt in ("text", "json", "markdown"):
        quick = runner.invoke(main, [*argv, "--format", fmt])
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / f"empty-{fmt}"))
        slow = runner.invoke(main, [*argv, "--format", fmt])
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home" / ".cache"))
        assert quick.exit_code == slow.exit_code == 0
        assert quick.output == slow.output
    assert "+ ep-00999" in quick.output or "ep-00999" in quick.output


def test_a_state_written_after_the_full_plan_read_it_is_not_indexed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The full plan reads the state, then indexes it for the next plan: a state replaced in
    between (here a hand edit that keeps its serial) is not the one the plan read, so nothing
    is kept for it and the next plan is a full one again, which sees the edit."""
    monkeypatch.setenv("SIG", "X-Amz-Signature=abc")
    root, state = applied_workspace(tmp_path, 50)
    store = LocalStateStore(state)
    doc = store.read()
    seen = state_identity(store)
    workspace = load_workspace(root)
    plan, parts = plan_and_digests(workspace.projects, doc, PlanOptions())
    raw = state.read_bytes()
    assert b'"status":"success"' in raw
    state.write_bytes(raw.replace(b'"status":"success"', b'"status":"error"', 1))  # (a new size)
    cache = tmp_path / "cache"
    remember_full(cache, store, workspace, doc, plan, parts, time.time_ns(), seen)
    settings = RunSettings(root, state_path=state, workspace_cache=cache)
    assert plan_incrementally(root, settings.store, PlanOptions(), cache) is None
    full = RunSettings(root, state_path=state, workspace_cache=None)
    assert render_text(plan_workspace(settings, PlanOptions()).plan) == render_text(
        plan_workspace(full, PlanOptions()).plan
    )
