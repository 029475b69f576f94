"""The cold plan streams file by file (workspace/streaming.py) and is the full plan, byte for byte.

A differential test as for the incremental plan: random edits to a 500-project workspace and to
its state, and after each one a cold plan (empty workspace cache: the streaming plan) against
the full plan with no cache at all, in all three formats. The streaming plan's memory follows one
file: its peak at 2,000 projects is a fraction of the full plan's. What it cannot stream (a
problem in a file, a project defined twice, a job recorded twice) takes the full plan, which
says what is wrong exactly as before.
"""

from __future__ import annotations

import random
import shutil
import time
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner

from descript_iac.cli import main
from descript_iac.plan import PlanOptions
from descript_iac.plan.markdown import render_markdown
from descript_iac.plan.render import render_text
from descript_iac.plan.report import render_json
from descript_iac.plan.samples import StepSample, step_samples
from descript_iac.state.store import LocalStateStore
from descript_iac.workspace import RunSettings, plan_workspace
from descript_iac.workspace.incremental import plan_incrementally
from descript_iac.workspace.streaming import plan_streaming
from tests.workspace.test_incremental_plan import (
    EPISODE,
    OPTION_CHOICES,
    _edit_file,
    _edit_state,
    applied_workspace,
)


def _streams(settings: RunSettings, options: PlanOptions) -> bool:
    assert settings.workspace_cache is not None
    shutil.rmtree(settings.workspace_cache, ignore_errors=True)
    found = plan_streaming(
        settings.root, settings.store(None), options, settings.workspace_cache, time.time_ns()
    )
    shutil.rmtree(settings.workspace_cache, ignore_errors=True)
    return found is not None


def test_the_cold_plan_streams_and_is_the_full_plan_after_random_edits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIG", "X-Amz-Signature=abc")
    root, state = applied_workspace(tmp_path, 500)
    # A project with a budget of its own, and a file that is not a workspace file.
    (root / "budgeted.yaml").write_text(
        "version: 1\nprojects:\n  solo:\n    name: Solo\n    budget: {ai_credits: 5}\n"
        "    steps:\n      - {id: s, prompt: Write a summary}\n"
    )
    (root / "notes.yaml").write_text("just: notes\n")
    cold = RunSettings(root, state_path=state, workspace_cache=tmp_path / "cache")
    full = RunSettings(root, state_path=state, workspace_cache=None)
    choices = OPTION_CHOICES
    options = choices[0]
    rng = random.Random(2026)
    counter = [0]
    streamed = 0
    for round_ in range(25):
        what = _edit_state(rng, state) if rng.random() < 0.3 else _edit_file(rng, root, counter)
        if rng.random() < 0.2:
            options = rng.choice(choices)
        streamed += _streams(cold, options)
        shutil.rmtree(tmp_path / "cache", ignore_errors=True)
        outcome, want = plan_workspace(cold, options), plan_workspace(full, options)
        for form, render in (("text", render_text), ("json", render_json)):
            assert render(outcome.plan) == render(want.plan), f"round {round_} ({what}): {form}"
        assert render_markdown(outcome.plan) == render_markdown(want.plan), f"round {round_}"
        assert outcome.plan.config_digest == want.plan.config_digest
        assert outcome.notes == want.notes
        assert outcome.workspace.warnings == want.workspace.warnings
        assert outcome.workspace.budget == want.workspace.budget
        for p in outcome.plan.projects:  # what a forecast reads of the changed projects
            if p.address in want.workspace.projects:
                assert outcome.workspace.projects[p.address] == want.workspace.projects[p.address]
        assert outcome.workspace.projects["solo"] == want.workspace.projects["solo"]  # its budget
        # What a forecast reads of the state, collected as the state was read.
        assert outcome.samples is not None
        assert sorted(outcome.step_samples(), key=_key) == sorted(step_samples(want.doc), key=_key)
    assert streamed == 25  # every cold plan streamed


def _whole_state_read(self: LocalStateStore) -> object:
    raise AssertionError("the whole state was read")


def _key(sample: StepSample) -> tuple[str, float]:
    return sample.model, sample.credits


def test_the_cli_says_the_same_cold_and_warm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIG", "X-Amz-Signature=abc")
    root, state = applied_workspace(tmp_path, 100)
    path = root / "episodes-00025.yaml"
    original = path.read_text()
    path.write_text(original + EPISODE.format(i=999))
    runner = CliRunner()
    argv = ["--state", str(state), "plan", str(root), "--forecast", "off"]
    for fmt in ("text", "json", "markdown"):
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / f"cold-{fmt}"))
        cold = runner.invoke(main, [*argv, "--format", fmt])
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / f"cold-{fmt}"))  # now incremental
        warm = runner.invoke(main, [*argv, "--format", fmt])
        assert cold.exit_code == warm.exit_code == 0, cold.output
        assert cold.output == warm.output
        assert "ep-00999" in cold.output
    # A new step (no media to probe), forecast: the cold plan's samples are collected as it
    # streams, the incremental plan's are those the cold plan kept in the cache.
    path.write_text(
        original.replace(
            "      - {id: captions, prompt: Add captions}\n",
            "      - {id: captions, prompt: Add captions}\n      - {id: more, prompt: Tighten}\n",
            1,
        )
    )
    forecast = ["--state", str(state), "plan", str(root)]
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cold-forecast"))
    with monkeypatch.context() as m:  # neither plan, forecast or saved plan reads it all
        m.setattr(LocalStateStore, "read", _whole_state_read)
        cold = runner.invoke(main, [*forecast, "--out", str(tmp_path / "cold.plan")])
        warm = runner.invoke(main, [*forecast, "--out", str(tmp_path / "warm.plan")])
    assert cold.exit_code == warm.exit_code == 0, cold.output
    assert cold.output.replace("cold.plan", "warm.plan") == warm.output
    assert (tmp_path / "cold.plan").read_bytes() == (tmp_path / "warm.plan").read_bytes()
    assert "Cost forecast:" in cold.output
    assert "recorded step(s)" in cold.output


def test_an_incremental_forecast_reads_the_samples_the_cold_plan_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIG", "X-Amz-Signature=abc")
    root, state = applied_workspace(tmp_path, 100)
    cached = RunSettings(root, state_path=state, workspace_cache=tmp_path / "cache")
    plan_workspace(cached, PlanOptions())  # cold: it streams, and keeps the samples
    path = root / "episodes-00050.yaml"
    path.write_text(
        path.read_text().replace(
            "      - {id: captions, prompt: Add captions}\n",
            "      - {id: captions, prompt: Add captions}\n      - {id: more, prompt: Tighten}\n",
            1,
        )
    )
    with monkeypatch.context() as m:
        m.setattr(LocalStateStore, "read", _whole_state_read)
        assert plan_incrementally(root, cached.store, PlanOptions(), cached.workspace_cache)
        samples = plan_workspace(cached, PlanOptions()).step_samples()
    full = plan_workspace(RunSettings(root, state_path=state, workspace_cache=None), PlanOptions())
    assert samples
    assert sorted(samples, key=_key) == sorted(step_samples(full.doc), key=_key)


def test_what_it_cannot_stream_takes_the_full_plan_and_says_what_is_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIG", "X-Amz-Signature=abc")
    root, state = applied_workspace(tmp_path, 50)
    settings = RunSettings(root, state_path=state, workspace_cache=tmp_path / "cache")
    assert _streams(settings, PlanOptions())
    runner = CliRunner()
    argv = ["--state", str(state), "plan", str(root), "--forecast", "off"]
    # A project defined twice, in two files: the full load names both places.
    twice = root / "zz-twice.yaml"
    twice.write_text(
        "version: 1\nprojects:\n  ep-00003:\n    name: Again\n"
        "    steps:\n      - {id: s, prompt: Write a summary}\n"
    )
    assert not _streams(settings, PlanOptions())
    result = runner.invoke(main, argv)
    assert result.exit_code == 1
    assert "zz-twice.yaml:3" in result.output
    assert "also defined at ws/episodes-00000.yaml:" in result.output
    twice.unlink()
    # One job recorded under two projects in the state.
    store = LocalStateStore(state)
    doc = store.read()
    a, b = doc.projects["ep-00001"], doc.projects["ep-00002"]
    assert a.import_ is not None and b.import_ is not None
    b.import_.job_id = a.import_.job_id
    store.commit(doc)
    assert not _streams(settings, PlanOptions())
    result = runner.invoke(main, argv)
    assert result.exit_code == 1
    assert "is recorded under two projects" in result.output


def _peak(fn: object) -> int:
    tracemalloc.start()
    try:
        fn()  # type: ignore[operator]
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_cold_plan_holds_one_file_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIG", "X-Amz-Signature=abc")
    root, state = applied_workspace(tmp_path, 2000, 100)
    cold = RunSettings(root, state_path=state, workspace_cache=tmp_path / "cache")
    full = RunSettings(root, state_path=state, workspace_cache=None)
    streaming = _peak(lambda: plan_workspace(cold, PlanOptions()))
    whole = _peak(lambda: plan_workspace(full, PlanOptions()))
    # 2,000 projects' models and state records at once, against one file's 100 and an index.
    assert streaming * 4 < whole, (streaming, whole)
