"""A number from the API that is not sane is recorded as unknown, never as zero (issue #27):
against the emulator's hostile numbers (an agent job's `ai_credits_used: -1e9`), the apply
ends cleanly and says so, the state records the step's credits as unknown (null), and `show`,
`state show` and `costs` print "unknown" where a sum would have been 0 or -1,000,000,000."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from descript_iac.state.store import LocalStateStore
from tests.builders import ONE_IMPORT, cli_env, run_cli, start_emulator, write_workspace

pytestmark = pytest.mark.e2e

WORKSPACE = (
    ONE_IMPORT
    + """    steps:
      - {id: clean, prompt: Remove filler words}
"""
)


def test_a_bad_credit_count_is_unknown_in_the_state_show_and_costs(tmp_path: Path) -> None:
    running = start_emulator(hostile_numbers=True)
    try:
        env = cli_env(running)
        root = write_workspace(tmp_path / "ws", {"main.yaml": WORKSPACE})
        state = tmp_path / "s.json"
        at = ("--state", str(state))
        applied = run_cli(*at, "apply", str(root), "--auto-approve", env=env)
        shown = run_cli(*at, "show", str(root), env=env)
        listed = run_cli(*at, "state", "show", "--workspace", str(root), env=env)
        spent = run_cli(*at, "costs", str(root), env=env)
        spent_json = run_cli(*at, "costs", str(root), "--format", "json", env=env)
        spent_md = run_cli(*at, "costs", str(root), "--format", "markdown", env=env)
        again = run_cli(*at, "plan", str(root), "--forecast", "off", env=env)
        root2 = write_workspace(tmp_path / "ws2", {"main.yaml": WORKSPACE})
        at2 = ("--state", str(tmp_path / "s2.json"))
        streamed = run_cli(*at2, "apply", str(root2), "--auto-approve", "--json", env=env)
    finally:
        running.stop()
    assert applied.exit_code == 0, applied.output
    assert "ai_credits_used = -1000000000.0 from the API is not a sane number" in applied.output
    assert "-1000000000" not in applied.output.replace("= -1000000000.0", "")
    assert "The spend of 1 job(s) is unknown" in applied.output
    assert again.exit_code == 0 and "No changes" in again.output
    events = [json.loads(line) for line in streamed.stdout.splitlines() if line.startswith("{")]
    complete = next(e for e in events if e["event"] == "apply_complete")
    assert complete["unknown_spend_jobs"] == 1 and complete["ai_credits"] == 0

    step = LocalStateStore(state).read().projects["ep"].steps[0]
    assert step.id == "clean" and step.ai_credits_used is None  # unknown, not 0

    assert "step clean: success (job " in shown.output and "AI credits unknown)" in shown.output
    assert "and unknown for 1 job(s) (the API's number was not sane)" in shown.output
    assert "unknown for 1 job(s)" in listed.output
    assert "The spend of 1 job(s) is unknown" in spent.output and "+ unknown" in spent.output
    assert json.loads(spent_json.output)["total"]["unknown_jobs"] == 1
    assert "+ unknown" in spent_md.output
    for output in (shown.output, listed.output, spent.output, spent_json.output):
        assert "-1000000000" not in output and "-1,000,000,000" not in output
