"""Apply end to end, against `descript-iac emulator serve` over a real socket."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from descript_iac.state.store import LocalStateStore
from tests.builders import run_cli
from tests.e2e.conftest import Served

pytestmark = pytest.mark.e2e
FAST = ("--poll-interval", "0.05")


def apply(served: Served, root: Path, *extra: str, **env: str):  # type: ignore[no-untyped-def]
    return run_cli("apply", str(root), "--auto-approve", *FAST, *extra, env=served.env(**env))


def job_counts(served: Served) -> dict[str, Counter[str]]:
    """Per project name: how many jobs of each kind (import, or the prompt) it received."""
    out: dict[str, Counter[str]] = {}
    for project in served.projects():
        kinds = Counter(j["prompt"] or j["job_type"] for j in project["jobs"])
        out.setdefault(project["name"], Counter()).update(kinds)
    return out


def expected_counts() -> dict[str, Counter[str]]:
    cleanup = "Remove filler words and add Studio Sound to every clip"
    return {
        "Episode 42: Great coffee": Counter(
            {"import/project_media": 1, cleanup: 1, "Add karaoke-style captions": 1}
        ),
        "Episode 43: Tea time": Counter(
            {
                "import/project_media": 1,
                cleanup: 1,
                "Create a 30-second highlight reel of the best moment": 1,
            }
        ),
        "How to make great coffee": Counter(
            {
                "Write a script about how to make great coffee": 1,
                "Tighten the script to under two minutes and add a title card": 1,
            }
        ),
    }


def test_apply_then_apply_again_issues_nothing(served: Served, workspace: Path) -> None:
    first = apply(served, workspace)
    assert first.exit_code == 0, first.output
    assert "Apply complete: 8 job(s) issued, 3 project(s) created" in first.output
    assert job_counts(served) == expected_counts()
    state = LocalStateStore(Path("state") / "show.json").read()
    assert set(state.projects) == {"episode-042", "episode-043", "coffee-script"}
    assert state.projects["episode-042"].import_ is not None
    assert [s.status for s in state.projects["episode-042"].steps] == ["success", "success"]
    second = apply(served, workspace)
    assert second.exit_code == 0
    assert "No changes. 3 projects are up to date." in second.output
    assert job_counts(served) == expected_counts()  # not one more job


def test_add_step_edit_prompt_and_replace(served: Served, workspace: Path) -> None:
    assert apply(served, workspace).exit_code == 0
    episodes = workspace / "episodes.yaml"
    text = episodes.read_text()
    # Adding a step runs only that step.
    added = text.replace(
        "      - id: captions\n        prompt: Add karaoke-style captions\n",
        "      - id: captions\n        prompt: Add karaoke-style captions\n"
        "      - id: music\n        prompt: Add background music\n",
    )
    episodes.write_text(added)
    result = apply(served, workspace)
    assert result.exit_code == 0, result.output
    assert "1 job(s) issued" in result.output
    assert job_counts(served)["Episode 42: Great coffee"]["Add background music"] == 1
    # Editing an applied prompt is blocked.
    episodes.write_text(added.replace("Add background music", "Add jazz music"))
    blocked = apply(served, workspace)
    assert blocked.exit_code == 1
    assert "the prompt or model of applied step music changed" in blocked.output
    assert "nothing was applied" in blocked.output
    episodes.write_text(added)
    # A changed media path with --allow-replace: exactly one new project, steps re-run.
    before = len(served.projects())
    episodes.write_text(added.replace("ep42/host.wav", "ep42/host-final.wav"))
    refused = apply(served, workspace)
    assert refused.exit_code == 1 and "media changed: raw/host.wav" in refused.output
    replaced = apply(served, workspace, "--allow-replace")
    assert replaced.exit_code == 0, replaced.output
    assert "1 replaced" in replaced.output
    projects = served.projects()
    assert len(projects) == before + 1
    newest = [p for p in projects if p["name"] == "Episode 42: Great coffee"][-1]
    assert [j["job_type"] for j in newest["jobs"]] == ["import/project_media"] + ["agent"] * 3
    state = LocalStateStore(Path("state") / "show.json").read()
    orphans = state.projects["episode-042"].orphans
    assert len(orphans) == 1 and orphans[0].project_id != newest["project_id"]
    assert state.projects["episode-042"].project_id == newest["project_id"]
    assert apply(served, workspace).output.startswith("No changes.")


def test_lost_replies_and_server_errors_converge_without_duplicates(
    served: Served, workspace: Path
) -> None:
    # The faults follow the serve command's --seed (reset restores it; a new seed reseeds).
    served.faults(lose_response_rate=0.3, error_rate=0.1)
    outputs = []
    for _ in range(12):
        result = apply(served, workspace)
        outputs.append(result.output)
        if result.exit_code == 0 and "No changes." in result.output:
            break
    else:
        pytest.fail("did not converge:\n" + "\n----\n".join(outputs[-3:]))
    assert job_counts(served) == expected_counts()
    stats = __import__("httpx").get(f"{served.root}/_emulator/stats").json()
    assert stats.get("replies_lost", 0) >= 1 and stats.get("errors_injected", 0) >= 1


def test_failed_step_stops_only_its_project_and_is_rerun(served: Served, workspace: Path) -> None:
    served.faults(fail_prompt_pattern="highlight")
    result = apply(served, workspace)
    assert result.exit_code == 1
    assert "1 failure(s):" in result.output
    assert (
        "episode-043: step highlights: error: The agent could not complete the request"
        in result.output
    )
    assert (
        job_counts(served)["How to make great coffee"]
        == expected_counts()["How to make great coffee"]
    )
    served.faults(fail_prompt_pattern=None)
    again = apply(served, workspace)
    assert again.exit_code == 0, again.output
    assert "1 job(s) issued" in again.output


def test_out_of_credits_stops_submitting(served: Served, workspace: Path) -> None:
    served.faults(credit_budget=1)
    result = apply(served, workspace, "--parallelism", "1")
    assert result.exit_code == 1
    assert "out of credits (402): nothing new was sent after it" in result.output
    agent_jobs = sum(1 for p in served.projects() for j in p["jobs"] if j["job_type"] == "agent")
    assert agent_jobs == 1  # the first agent job spent the budget; nothing after the 402


def test_no_wait_submits_and_the_next_apply_picks_up(served: Served, workspace: Path) -> None:
    result = apply(served, workspace, "--no-wait")
    assert result.exit_code == 0, result.output
    assert "Submitted without waiting (--no-wait)" in result.output
    plan = run_cli("plan", str(workspace), env=served.env())
    assert "apply waits for it" in plan.output
    final = apply(served, workspace)
    assert final.exit_code == 0, final.output
    assert job_counts(served) == expected_counts()


def test_json_events(served: Served, workspace: Path) -> None:
    result = apply(served, workspace, "--json", "--target", "coffee-script")
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    names = [e["event"] for e in events]
    # (the cost forecast's lines come first, as notes, before the confirmation)
    start = names.index("apply_start")
    assert set(names[:start]) <= {"note"} and any("Cost forecast" in str(e) for e in events)
    names = names[start:]
    assert names[0] == "apply_start" and names[-1] == "apply_complete"
    assert names.count("job_submitted") == 2 and names.count("job_stopped") == 2
    assert events[-1]["jobs_issued"] == 2 and events[-1]["ok"] is True


def test_refuses_without_a_terminal_or_auto_approve(served: Served, workspace: Path) -> None:
    result = run_cli("apply", str(workspace), env=served.env())
    assert result.exit_code == 1
    assert "refusing to apply without confirmation" in result.output
    assert served.projects() == []
