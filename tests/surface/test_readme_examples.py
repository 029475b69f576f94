"""The examples of the one-off and surface commands (docs/surface.md, linked from the README),
run as written, in order, against the emulator at the 2026 API level: each `$ descript-iac ...`
line is run and each output line the page shows must appear in what the command printed (ids, times and paths normalized)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from descript_iac.state.store import LocalStateStore
from descript_iac.workspace.oneoff import oneoff_state_path
from tests.builders import REPO, cli_env, inspect, run_cli, serving

SECTION = "# One-off jobs and the rest of the Descript surface"
API = "https://descriptapi.com/v1"


def readme_examples() -> list[tuple[str, list[str]]]:
    """(command, expected output lines) for each `$ ` line of the section's console blocks."""
    text = (REPO / "docs" / "surface.md").read_text().split(SECTION, 1)[1]
    examples: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                examples.append((line[2:], []))
            elif line.strip() and examples:
                examples[-1][1].append(line)
    return examples


def normalize(text: str) -> str:
    home = str(Path.home())
    text = text.replace(home, "~")
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<id>", text)
    text = re.sub(r"nonce=[\w-]+", "nonce=<nonce>", text)
    text = re.sub(r"view/[0-9a-f]+", "view/<slug>", text)
    text = re.sub(r"\d{4}-\d{2}-\d{2}", "<date>", text)
    text = re.sub(r"\d{2}:\d{2}(:\d{2}(\.\d+)?)?", "<time>", text)
    text = re.sub(r"agent-[0-9a-f]{8}", "agent-<id>", text)
    text = re.sub(r"round trip \d+ ms", "round trip <n> ms", text)
    text = re.sub(r"[\d.]+s (behind|ahead of) the API's clock \(±[\d.]+s\)", r"<n>s \1", text)
    text = re.sub(r"<n>s ahead of", "<n>s behind", text)
    text = re.sub(r": [\d.]+ MB", ": <n> MB", text)
    return re.sub(r"serial \d+, \d+ project\(s\)", "serial <n>, <n> project(s)", text)


def test_readme_has_an_example_of_each_command() -> None:
    commands = " ".join(command for command, _ in readme_examples())
    for verb in (
        "import-media",
        "agent --project-id",
        "agent --new",
        "jobs cancel",
        "jobs get",
        "edit-link",
        "published",
        "doctor",
    ):
        assert f"descript-iac {verb}" in commands, verb


def test_readme_examples_run_as_shown() -> None:
    values: dict[str, str] = {}
    with serving(api_level="2026", job_seconds=0.3) as (running, _api):
        env = cli_env(running, DESCRIPT_IAC_POLL_INTERVAL="0.05")
        for command, expected in readme_examples():
            if "$SLUG" in command:  # a published page of the project (emulator-only shortcut)
                project = values["PROJECT_ID"]
                values["SLUG"] = inspect(running, f"projects/{project}/publish", {}).json()["slug"]
            args = shlex.split(command)
            assert args[0] == "descript-iac"
            args = [re.sub(r"\$(\w+)", lambda m: values[m.group(1)], a) for a in args[1:]]
            # The job the example cancels must still be running when `jobs cancel` comes.
            running.backend.config.job_seconds = 60.0 if "--no-wait" in args else 0.3
            result = run_cli(*args, env=env)
            shown = normalize(result.output.replace(running.base_url, API))
            for line in expected:
                assert normalize(line) in shown, f"{command}\n  wanted: {line}\n  got:\n{shown}"
            projects = LocalStateStore(oneoff_state_path()).read().projects
            if "my-show" in projects:
                values["PROJECT_ID"] = projects["my-show"].project_id or ""
            running_jobs = [
                p.steps[-1].job_id
                for p in projects.values()
                if p.steps and p.steps[-1].status is None
            ]
            if running_jobs:
                values["JOB_ID"] = running_jobs[-1]
