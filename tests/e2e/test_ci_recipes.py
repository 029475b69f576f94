"""The CI recipes (examples/ci), run as CI runs them: each run a fresh process in a fresh clone
of a git repository, the plan carried from the pull request to the merge as an artifact, the
state carried between runs as the recipe carries it (committed back to git), against the
emulator (no network).

The recipes' YAML is parsed and their `descript-iac` (and git) commands run in order, the install
step included: `pip install "$DESCRIPT_IAC_PACKAGE"` runs for real, into a virtual environment of
the pipeline's own, with the package spelled as the recipes pin it (`descript-iac @ git+URL@COMMIT`),
here this checkout's HEAD commit. The steps that talk to GitHub or GitLab (comment, download the
artifact) and the system packages (apt-get) are the only ones left out, and the test does their
part (it copies the saved plan)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.builders import EXAMPLES, REPO
from tests.e2e.conftest import Served

pytestmark = pytest.mark.e2e

RECIPES = EXAMPLES / "ci"
# Steps that talk to the CI service or install things: the test does their part.
INTEGRATION = re.compile(r"^\s*apt-get |\bgh |\bcurl ")
INSTALL = re.compile(r"^\s*pip install ")
VERB = re.compile(r"(^|\s)descript-iac (validate|fmt|plan|apply|import|state|show)\b")


@dataclass(frozen=True)
class Step:
    name: str
    script: str
    condition: str = ""


def _load(name: str) -> Any:
    return YAML(typ="safe").load((RECIPES / name).read_text())


def github_phases() -> tuple[dict[str, str], list[Step], list[Step]]:
    doc = _load("github-actions.yml")

    def steps(job: str) -> list[Step]:
        return [
            Step(s.get("name", ""), s["run"], str(s.get("if", "")))
            for s in doc["jobs"][job]["steps"]
            if "run" in s
        ]

    return dict(doc["env"]), steps("plan"), steps("apply")


def gitlab_phases() -> tuple[dict[str, str], list[Step], list[Step]]:
    doc = _load(".gitlab-ci.yml" if (RECIPES / ".gitlab-ci.yml").exists() else "gitlab-ci.yml")

    def steps(*jobs: str) -> list[Step]:
        out = [Step("before_script", line) for line in doc["default"]["before_script"]]
        for job in jobs:
            for key in ("script", "after_script"):
                out += [Step(f"{job}.{key}", line) for line in doc[job].get(key, [])]
        return out

    return dict(doc["variables"]), steps("check", "plan"), steps("apply")


PHASES = {"github-actions": github_phases, "gitlab-ci": gitlab_phases}


@pytest.fixture(scope="session")
def runner_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pipeline's own Python: a fresh virtual environment, with nothing of descript-iac in
    it until a recipe's install step puts it there."""
    where = tmp_path_factory.mktemp("runner") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True)
    return where / ("Scripts" if os.name == "nt" else "bin")


def pinned_package() -> str:
    """The package as the recipes pin it, from this checkout: its HEAD commit."""
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    # file://localhost/...: a PEP 508 URL needs a host (pip refuses git+file:///...)
    url = REPO.as_uri().replace("file://", "file://localhost", 1)
    return f"descript-iac @ git+{url}@{head}"


class StepFailed(AssertionError):
    def __init__(self, step: Step, code: int, output: str) -> None:
        super().__init__(f"{step.name}: {step.script}\nexit {code}\n{output}")
        self.step, self.code, self.output = step, code, output


class Pipeline:
    """Runs a recipe's phases in fresh clones of `origin`."""

    def __init__(
        self, recipe: str, served: Served, tmp: Path, pg_url: str | None, bindir: Path
    ) -> None:
        variables, self.pr_steps, self.merge_steps = PHASES[recipe]()
        self.tmp = tmp
        self.origin = tmp / "origin.git"
        self.runs = 0
        self.env = {
            **os.environ,
            **{k: str(v) for k, v in variables.items() if "${{" not in str(v)},
            "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}",
            "VIRTUAL_ENV": str(bindir.parent),
            # the recipes' pin, pointed at this checkout; its dependencies as CI locks them
            "DESCRIPT_IAC_PACKAGE": pinned_package(),
            "PIP_CONSTRAINT": str(REPO / "requirements" / "ci.txt"),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            # the state is carried between runs in PostgreSQL, or committed back to git
            "STATE_IN_GIT": "false" if pg_url else "true",
            "STATE_REMOTE": str(self.origin),
            "CI_DEFAULT_BRANCH": "main",
            "DESCRIPT_IAC_POLL_INTERVAL": "0.05",
            "GIT_AUTHOR_NAME": "dev",
            "GIT_AUTHOR_EMAIL": "dev@example.invalid",
            "GIT_COMMITTER_NAME": "dev",
            "GIT_COMMITTER_EMAIL": "dev@example.invalid",
            **served.env(),
        }
        self.env.pop("DESCRIPT_IAC_PG_URL", None)
        if pg_url:
            self.env["DESCRIPT_IAC_PG_URL"] = pg_url
        # Every step the test leaves out talks to the CI service; none runs descript-iac.
        for step in self.pr_steps + self.merge_steps:
            if INTEGRATION.search(step.script):
                assert not VERB.search(step.script), step
        # Each phase installs descript-iac, as the recipe pins it, before it runs it.
        for steps in (self.pr_steps, self.merge_steps):
            installs = [s.script for s in steps if INSTALL.search(s.script)]
            assert installs == ['pip install "$DESCRIPT_IAC_PACKAGE"'], installs

    def git(self, *args: str, cwd: Path) -> str:
        done = subprocess.run(
            ["git", *args], cwd=cwd, env=self.env, capture_output=True, text=True, check=True
        )
        return done.stdout

    def clone(self, branch: str) -> Path:
        self.runs += 1
        where = self.tmp / f"run-{self.runs}"
        self.git("clone", "--quiet", "--branch", branch, str(self.origin), str(where), cwd=self.tmp)
        return where

    def run(self, steps: list[Step], cwd: Path) -> str:
        out = []
        for step in steps:
            if INTEGRATION.search(step.script):
                continue
            if "STATE_IN_GIT" in step.condition and self.env["STATE_IN_GIT"] != "true":
                continue
            done = subprocess.run(
                ["bash", "-eo", "pipefail", "-c", step.script],
                cwd=cwd,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=600 if INSTALL.search(step.script) else 180,
            )
            out.append(done.stdout + done.stderr)
            if done.returncode != 0:
                raise StepFailed(step, done.returncode, out[-1])
        return "\n".join(out)

    def pull_request(self, branch: str) -> tuple[str, Path]:
        """The pull request's run: returns the posted Markdown and the kept artifact."""
        where = self.clone(branch)
        self.run(self.pr_steps, where)
        artifact = self.tmp / f"artifact-{self.runs}.plan"
        shutil.copy(where / "descript.plan", artifact)
        return (where / "plan.md").read_text(), artifact

    def merge(self, artifact: Path) -> str:
        where = self.clone("main")
        shutil.copy(artifact, where / "descript.plan")  # what "fetch the reviewed plan" does
        return self.run(self.merge_steps, where)


def _a_show_on_a_branch(ci: Pipeline, tmp_path: Path, pg_url: str | None) -> Path:
    """A developer's clone with `init shows` committed and pushed as the branch `add-show` (its
    state in PostgreSQL, as the README recommends, when `pg_url` is given)."""
    dev = tmp_path / "dev"
    subprocess.run(["git", "init", "--quiet", "--bare", "-b", "main", str(ci.origin)], check=True)
    ci.git("clone", "--quiet", str(ci.origin), str(dev), cwd=tmp_path)
    ci.git("checkout", "--quiet", "-b", "main", cwd=dev)
    subprocess.run(
        [sys.executable, "-m", "descript_iac", "init", "shows"], cwd=dev, env=ci.env, check=True
    )
    if pg_url:
        config = dev / "shows" / "descript.yaml"
        lines = [
            'state: {backend: postgresql, url: "${env:DESCRIPT_IAC_PG_URL}"}'
            if line.startswith("state:")
            else line
            for line in config.read_text().splitlines()
        ]
        config.write_text("\n".join(lines) + "\n")
    ci.git("add", "-A", cwd=dev)
    ci.git("commit", "--quiet", "-m", "A show", cwd=dev)
    ci.git("push", "--quiet", "origin", "main:add-show", cwd=dev)
    return dev


def _jobs(served: Served) -> int:
    return sum(len(p["jobs"]) for p in served.projects())


@pytest.mark.parametrize(
    "recipe, state",
    [
        ("github-actions", "postgresql"),
        ("github-actions", "git"),
        ("gitlab-ci", "git"),
    ],
)
def test_recipe_plans_on_a_pull_request_and_applies_that_plan_on_merge(
    recipe: str,
    state: str,
    served: Served,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    runner_python: Path,
) -> None:
    pg_url = request.getfixturevalue("pg_url") if state == "postgresql" else None
    ci = Pipeline(recipe, served, tmp_path, pg_url, runner_python)
    dev = _a_show_on_a_branch(ci, tmp_path, pg_url)

    # 1. The pull request: the plan shows the project, its media and its prompt.
    posted, first = ci.pull_request("add-show")
    assert "**Plan: 1 project to create, 1 step to run" in posted
    assert "```text\nRemove filler words and add Studio Sound to every clip\n```" in posted
    assert "media demo.mp4: https://test-files.descriptapi.com/demo_video.mp4" in posted

    # 2. Merged: that very plan is applied, and the state committed back.
    ci.git("push", "--quiet", "origin", "main:main", cwd=dev)
    applied = ci.merge(first)
    assert "Apply complete: 2 job(s) issued" in applied
    assert _jobs(served) == 2
    # what ran was the pipeline's own install, from the pinned commit
    assert _installed_from(runner_python) == ci.env["DESCRIPT_IAC_PACKAGE"].split("@ ")[1]
    committed = ci.git("ls-tree", "-r", "--name-only", "main", cwd=ci.origin)
    assert ("shows/state/shows.json" in committed) is (pg_url is None)

    # 3. The next pull request, from a fresh clone: nothing to do (the state was carried).
    posted, _ = ci.pull_request("main")
    assert "No changes. 1 project is up to date." in posted
    if not pg_url:
        return  # the rest exercises descript-iac more than the recipe: once is enough

    # 4. A config change applies only the change.
    ci.git("pull", "--quiet", "--rebase", "origin", "main", cwd=dev)
    config = dev / "shows" / "descript.yaml"
    config.write_text(
        config.read_text().replace(
            "        prompt: Remove filler words and add Studio Sound to every clip\n",
            "        prompt: Remove filler words and add Studio Sound to every clip\n"
            "      - id: captions\n        prompt: Add karaoke-style captions\n",
        )
    )
    ci.git("commit", "--quiet", "-am", "Captions", cwd=dev)
    ci.git("push", "--quiet", "origin", "main:add-captions", cwd=dev)
    posted, second = ci.pull_request("add-captions")
    assert "**Plan: 0 projects to create, 1 step to run" in posted
    assert "#### `>` `my-first-video`" in posted and "`>` **step captions**: new step" in posted
    assert "```text\nAdd karaoke-style captions\n```" in posted
    ci.git("push", "--quiet", "origin", "main:main", cwd=dev)
    applied = ci.merge(second)
    assert "Apply complete: 1 job(s) issued" in applied and "1 step(s) run" in applied
    assert _jobs(served) == 3

    # 5. A saved plan is applied once: the first one is stale now, and refused.
    stale = ci.clone("main")
    shutil.copy(first, stale / "descript.plan")
    refused = subprocess.run(
        ["descript-iac", "apply", "descript.plan"],
        cwd=stale,
        env=ci.env,
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 1 and "the saved plan is stale" in refused.stderr
    assert _jobs(served) == 3


def _installed_from(bindir: Path) -> str:
    """The `git+URL@COMMIT` the runner's descript-iac was installed from (PEP 610)."""
    done = subprocess.run(
        [
            str(bindir / "python"),
            "-c",
            "import json; from importlib.metadata import distribution as d; "
            "u = json.loads(d('descript-iac').read_text('direct_url.json')); "
            "print(f\"{u['vcs_info']['vcs']}+{u['url']}@{u['vcs_info']['commit_id']}\")",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.mark.parametrize("recipe", sorted(PHASES))
def test_a_local_state_that_the_recipe_would_not_keep_stops_the_pipeline_before_it_plans(
    recipe: str, served: Served, tmp_path: Path, runner_python: Path
) -> None:
    """Neither PostgreSQL nor STATE_IN_GIT: the state would be thrown away with the runner, and
    the next run would not know what this one made. The pipeline stops at validate, with the
    way on, before anything is planned or sent."""
    ci = Pipeline(recipe, served, tmp_path, None, runner_python)
    ci.env["STATE_IN_GIT"] = "false"
    _a_show_on_a_branch(ci, tmp_path, None)
    with pytest.raises(StepFailed) as failed:
        ci.pull_request("add-show")
    assert "validate" in failed.value.step.script and failed.value.code == 1
    message = failed.value.output
    assert "shows/descript.yaml:" in message and "the state is a local file" in message
    assert "STATE_IN_GIT" in message and "backend: postgresql" in message
    assert "Traceback" not in message
    assert _jobs(served) == 0
