"""The dashboard in a real browser (Playwright with Debian's chromium): the pages render, the
approve button approves, no secret is in any page; a screenshot of the main page is kept in
test-artifacts/ (CI installs chromium: without it this test fails, it never skips)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Dialog, sync_playwright

from tests.builders import REPO, TOKEN
from tests.controller.conftest import CONTROLLER_TOKEN, HOOK_SECRET, Served
from tests.controller.test_serve import SHOWS

pytestmark = pytest.mark.e2e
ARTIFACTS = REPO / "test-artifacts"


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "chromium is missing: apt-get install -y chromium (.ci/run installs it)"
    return found


def test_dashboard_shows_the_held_run_and_its_button_approves_it(
    serve_git: Callable[..., Served],
) -> None:
    served = serve_git({"ws/main.yaml": SHOWS})
    from tests.controller.test_serve import _head

    served.run_for(_head(served), "applied")
    second = served.commit({"ws/main.yaml": SHOWS.replace("ep1/host", "ep1/host-v2")}, "a replace")
    served.push_hook()
    held = served.run_for(second, "held")
    secrets = (CONTROLLER_TOKEN, HOOK_SECRET, TOKEN)
    ARTIFACTS.mkdir(exist_ok=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(served.url + "/")
        assert page.title() == "Workspaces"
        assert page.locator("h2", has_text="Waiting for approval").is_visible()
        assert page.locator(f"a[href='/runs/{held['id']}']").count() == 2  # waiting, and runs
        page.screenshot(path=str(ARTIFACTS / "controller-dashboard.png"), full_page=True)
        for secret in secrets:
            assert secret not in page.content()

        page.click("a[href='/workspaces/shows']")
        links = page.locator("a[href^='https://web.descript.com/']")
        assert links.count() == 2 and links.first.inner_text() == "Episode 1"
        page.go_back()
        page.click(f"a[href='/runs/{held['id']}']")
        # the plan as the CLI renders it
        assert page.locator("pre").first.inner_text().strip() == held["plan_text"].strip()
        assert "-/+ ep1" in held["plan_text"]
        assert "replace action(s) need approval" in page.content()
        for secret in secrets:
            assert secret not in page.content()

        def give_token(dialog: Dialog) -> None:
            dialog.accept(CONTROLLER_TOKEN)

        page.on("dialog", give_token)
        page.fill("#by", "carol")
        page.click("#approve")
        done = served.run_for(second, "applied")
        assert [(v["verdict"], v["by"]) for v in done["verdicts"]] == [("approved", "carol")]
        page.goto(f"{served.url}/runs/{held['id']}")
        assert "approved by carol" in page.content()
        assert page.locator("#approve").count() == 0  # no button once it is not held
        for secret in secrets:
            assert secret not in page.content()
        browser.close()
    assert Path(ARTIFACTS / "controller-dashboard.png").stat().st_size > 1000


CONTROL = ("\x1b", "\x07", "\r", "\u202e", "\u202c")  # bytes the API's hostile text carries


def test_hostile_text_from_the_api_is_shown_escaped_in_every_page(
    serve_git: Callable[..., Served],
) -> None:
    """The emulator's worst text (escape sequences, CR, bidi overrides) in the agent's error
    message reaches the run's outcome: every page shows it visibly, raw in none."""
    served = serve_git({"ws/main.yaml": SHOWS}, hostile_text=True, fail_prompt_pattern="filler")
    from tests.controller.test_serve import _head

    run = served.run_for(_head(served), "failed")
    # the JSON API too: one line, shown (the pages escape it again for HTML)
    assert "\\x1b]0;PWNED-TITLE" in run["message"] and "\x1b" not in run["message"]
    assert not any(line.startswith("FORGED LINE") for line in run["message"].splitlines())
    paths = ("/", "/workspaces/shows", f"/runs/{run['id']}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        page = browser.new_page()
        for path in paths:
            page.goto(served.url + path)
            html = page.content()
            for byte in CONTROL:
                assert byte not in html, (path, byte)
            assert not any(
                line.lstrip().startswith(("FORGED LINE", "FAKE SUCCESS"))
                for line in page.inner_text("body").splitlines()
            ), path
            assert page.locator("script").count() == 1  # the page's own, nothing injected
        page.goto(f"{served.url}/runs/{run['id']}")
        outcome = page.locator("pre").nth(1).inner_text()
        assert "The agent could not complete the request" in outcome
        assert "\\x1b]0;PWNED-TITLE" in outcome  # shown, visibly
        browser.close()


def test_markup_in_values_from_the_api_is_escaped_on_every_page() -> None:
    """The emulator's hostile text has no markup: the page builders get it here, in every field
    that can come from Descript (a project's name, a step's status, a job's error, drift)."""
    from descript_iac.controller import dashboard
    from descript_iac.controller.runs import Run

    evil = "<img src=x onerror=alert(1)>\x1b[2J</pre><script>"
    run = Run(
        id="r1", workspace="shows", revision="abc", status="failed", message=evil,
        plan_text=evil, summary=evil, reasons=[evil], drift=[evil],
    )  # fmt: skip
    project = {
        "address": "ep1", "name": evil, "project_url": "https://web.descript.com/p",
        "import_status": evil, "steps": [{"id": "s", "status": evil, "ai_credits": 1}],
        "media_seconds": 1.0, "ai_credits": 1.0,
    }  # fmt: skip
    status = {"drift": [evil], "drift_error": evil, "drift_checked_at": "now"}
    spend = [{"day": evil, "ai_credits": 1.0, "media_seconds": 0.0, "jobs": 1}]
    workspaces = [
        {"name": "shows", "source": evil, "revision": evil, "checked_at": None, "error": evil}
    ]
    pages = [
        dashboard.index_page(workspaces, [run]),
        dashboard.workspace_page("shows", [project], [run], status, spend),
        dashboard.run_page(run),
    ]
    for html in pages:
        assert "<img" not in html and "\x1b" not in html and "</pre><script>" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;\\x1b[2J" in html
