"""The Markdown plan a reviewer approves in a pull request (issue #20, item 3): literal (what a
user wrote or the API returned is shown as it is, never rendered or hidden), complete (a
create shows everything its jobs send), consistent (the headline never contradicts the drift),
and short enough to post (a GitHub or GitLab comment holds at most 65,536 characters).

Literal is checked the way a reviewer sees it: the Markdown is rendered by a CommonMark renderer
(markdown-it-py, GitHub's and GitLab's dialect's core) and the text of the rendered page must
hold every prompt byte for byte."""

from __future__ import annotations

import json
import uuid
from html.parser import HTMLParser
from pathlib import Path

import msgspec
import pytest
from markdown_it import MarkdownIt

from descript_iac.plan import Plan, PlanOptions, compute_plan
from descript_iac.plan.markdown import COMMENT_LIMIT, render_markdown
from descript_iac.plan.model import Drift
from descript_iac.plan.render import no_changes_line, render_text
from descript_iac.plan.report import render_json
from descript_iac.state.document import StateDocument
from tests.builders import desired_project, record_apply, run_cli
from tests.plan.test_plan_golden import check_golden

HOSTILE_PROMPTS = [
    "Add captions <!-- then delete every clip except the intro --> in blue",
    "<details><summary>Tidy up</summary>Delete every clip but the intro</details>",
    "Make the intro *x* and __bold__, [a link](https://evil.example.com) and ![img](x.png)",
    "Use `backticks` and ``double ones`` and a trailing `",
    "Line one\n  indented line two\n\n# not a heading\n- not a list\n    not code either",
    "Close the fence\n```\n</details>\n````\nthen add `music` ~~and~~ @someone #12 $x^2$ :smile:",
    "&lt;entity&gt; & a | pipe | and \\*a backslash\\*",
]
NAME = "Episode <b>1</b> *draft* `v2`"
COMPOSITION = "Full <i>cut</i> | *A* _b_ snake_case &amp; :x: @me"
FOLDER = "Clients/<em>Acme</em>"


class _Text(HTMLParser):
    """The text a browser shows of rendered HTML (comments and tags are not text)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.tags: set[str] = set()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)


def rendered(markdown: str) -> _Text:
    page = _Text()
    page.feed(MarkdownIt("commonmark").enable("table").enable("strikethrough").render(markdown))
    page.close()
    page.text = "".join(page.parts)  # type: ignore[attr-defined]
    return page


def _hostile_workspace(root: Path) -> Path:
    """A workspace whose prompts, names and composition are the hostile texts above."""
    ws = root / "ws"
    ws.mkdir()
    steps = "".join(
        f"      - id: s{k}\n        prompt: {json.dumps(prompt)}\n"
        for k, prompt in enumerate(HOSTILE_PROMPTS)
    )
    (ws / "descript.yaml").write_text(
        "version: 1\nprojects:\n  hostile:\n"
        f"    name: {json.dumps(NAME)}\n"
        "    media:\n      host.wav: {url: 'https://cdn.example.com/a.wav?sig=SECRET'}\n"
        f"    compositions:\n      - name: {json.dumps(COMPOSITION)}\n"
        "        clips: [{media: host.wav}]\n        publish: {media_type: Audio}\n"
        f"    steps:\n{steps}"
    )
    return ws


def test_hostile_prompts_golden_and_rendered_literally(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    counter = iter(range(1, 1 << 30))  # the new state's lineage, the same every run
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=next(counter)))
    _hostile_workspace(tmp_path)
    result = run_cli("plan", "ws", "--format", "markdown", "--forecast", "off")
    assert result.exit_code == 0, result.output
    markdown = result.output
    check_golden("hostile-prompts.md", markdown)
    page = rendered(markdown)
    for prompt in HOSTILE_PROMPTS:
        assert prompt in page.text, f"not shown literally: {prompt!r}"
    assert f"name: {NAME}" in page.text
    assert COMPOSITION in page.text
    assert f"publish {COMPOSITION}" in page.text  # an action's label, outside any code block
    # Nothing the user wrote became markup: only the plan's own elements are on the page.
    assert page.tags <= {"h3", "h4", "p", "strong", "code", "pre", "sub"}, page.tags
    assert "SECRET" not in markdown and "sig=" not in markdown


def test_drift_text_from_the_api_is_shown_literally() -> None:
    detail = "renamed in Descript to 'Ep <!-- hidden --> *1*\n<details>x</details>'"
    plan = Plan(
        lineage="l",
        serial=1,
        config_digest="sha256:0",
        options=PlanOptions(),
        projects=(),
        up_to_date=("ep-1",),
        drift=(Drift(address="ep-1", kind="renamed", detail=detail, key="k"),),
    )
    page = rendered(render_markdown(plan))
    assert f"~ ep-1: {detail}" in page.text
    assert "details" not in page.tags and "em" not in page.tags
    # A server's very long text does not take the comment past its limit.
    huge = msgspec.structs.replace(
        plan, drift=(msgspec.structs.replace(plan.drift[0], detail="x" * 10**6),)
    )
    assert len(render_markdown(huge)) < COMMENT_LIMIT


def _big_plan(count: int) -> Plan:
    projects = {
        f"ep-{k:05d}": desired_project(
            f"ep-{k:05d}",
            name=f"Episode {k}",
            media={"host.wav": {"url": f"https://cdn.example.com/ep{k}/host.wav"}},
            steps=[
                {"id": "cleanup", "prompt": "Remove filler words and add Studio Sound"},
                {"id": "captions", "prompt": "Add karaoke-style captions\nin blue"},
            ],
        )
        for k in range(count)
    }
    return compute_plan(projects, StateDocument(), PlanOptions())


def test_a_markdown_plan_of_500_projects_fits_in_one_comment() -> None:
    plan = _big_plan(500)
    assert len(render_text(plan)) > 3 * COMMENT_LIMIT  # the whole plan would not fit
    markdown = render_markdown(plan)
    assert len(markdown) < COMMENT_LIMIT
    assert "**Plan: 500 projects to create, 1000 steps to run" in markdown.replace("\\", "")
    page = rendered(markdown)
    first = "#### `+` `ep-00000`"
    assert markdown.startswith("### descript-iac plan") and first in markdown
    assert "Add karaoke-style captions\nin blue" in page.text  # the first actions in full
    shown = markdown.count("\n#### ")
    assert 10 < shown < 500
    assert f"{500 - shown} more project(s) with {3 * (500 - shown)} action(s)" in markdown
    assert "`descript-iac show PLANFILE`" in markdown
    assert "65,536-character limit" in markdown
    small = render_markdown(_big_plan(3))
    assert "more project(s)" not in small and small.count("\n#### ") == 3


def test_the_cli_markdown_with_its_forecast_fits_in_one_comment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """500 prompt-only projects (the forecast needs no probe): plan and forecast, one comment."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ws").mkdir()
    projects = "".join(
        f"  ep-{k:05d}:\n    steps:\n      - {{id: write, prompt: Write script {k}}}\n"
        f"      - {{id: polish, prompt: Tighten script {k}}}\n"
        for k in range(500)
    )
    (tmp_path / "ws" / "descript.yaml").write_text(f"version: 1\nprojects:\n{projects}")
    result = run_cli("plan", "ws", "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert "### Cost forecast" in result.output
    assert len(result.output) < COMMENT_LIMIT, len(result.output)
    assert "more project(s)" in result.output and "more action(s)" in result.output


CREATE = {
    "name": "Episode 42: Great coffee",
    "team_access": "edit",
    "folder": "Clients/Acme",
    "callback_url": "https://hooks.example.com/descript?token=SECRET-TOKEN",
    "media": {"host.wav": {"url": "https://cdn.example.com/ep42/host.wav"}},
    "compositions": [
        {
            "name": "Full episode",
            "clips": [{"media": "host.wav"}],
            "publish": {"media_type": "Video", "resolution": "1080p", "access_level": "unlisted"},
        }
    ],
    "steps": [{"id": "cleanup", "prompt": "Remove filler words", "composition": "Full episode"}],
    "exports": [{"composition": "Full episode", "subtitles": "captions/ep42.vtt"}],
}
CREATE_SHOWS = [
    "name: Episode 42: Great coffee",
    "team_access: edit",
    "folder: Clients/Acme",
    "callback_url: https://hooks.example.com/descript",
    "export: composition Full episode -> subtitles captions/ep42.vtt",
    "composition: Full episode",
    "media_type: Video",
    "resolution: 1080p",
    "access_level: unlisted",
]


def test_a_create_shows_everything_it_sends_in_all_three_formats() -> None:
    plan = compute_plan(
        {"ep-42": desired_project("ep-42", **CREATE)}, StateDocument(), PlanOptions()
    )
    page = rendered(render_markdown(plan)).text
    for shown in (render_text(plan), page):
        for line in CREATE_SHOWS:
            assert line in shown
    data = json.loads(render_json(plan))
    settings = [f"{s['what']}: {s['value']}" for a in data["actions"] for s in a["settings"]]
    assert settings == CREATE_SHOWS
    for text in (render_text(plan), render_markdown(plan), render_json(plan)):
        assert "SECRET-TOKEN" not in text and "token=" not in text


def test_a_secret_callback_url_is_masked() -> None:
    project = desired_project("ep", **{**CREATE, "callback_url": "https://hooks.example.com/x"})
    project = msgspec.structs.replace(project, secret_paths=frozenset({("callback_url",)}))
    plan = compute_plan({"ep": project}, StateDocument(), PlanOptions())
    assert "callback_url: ***" in render_text(plan)
    assert "hooks.example.com" not in render_text(plan) + render_markdown(plan) + render_json(plan)


def test_the_headline_never_contradicts_the_drift() -> None:
    """Projects deleted in Descript: nothing to send, but they are not "up to date"."""
    doc = StateDocument(salt="s")
    desired = {}
    for k in range(4):
        desired[f"ep-{k}"] = desired_project(
            f"ep-{k}", media={"a.wav": {"url": "https://x.io/a.wav"}}
        )
        record_apply(doc, desired[f"ep-{k}"])
    clean = compute_plan(desired, doc, PlanOptions())
    assert no_changes_line(clean) == "No changes. 4 projects are up to date."
    deleted = tuple(
        Drift(address=a, kind="deleted", detail=f"project of {a} is no longer in Descript", key=a)
        for a in desired
    )
    plan = msgspec.structs.replace(clean, drift=deleted)
    for text in (render_text(plan), render_markdown(plan).replace("\\", ""), render_json(plan)):
        assert "No changes" not in text and "4 projects are up to date" not in text
        assert "4 change(s) made outside descript-iac on 4 project(s)" in text
        assert "0 projects are up to date." in text
    # Drift on one project of four: the other three are still up to date.
    one = msgspec.structs.replace(clean, drift=deleted[:1])
    assert "3 projects are up to date." in render_text(one)
