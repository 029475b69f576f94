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
