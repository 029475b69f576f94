"""docs/controller.md matches the code: its example file loads, its policy table's defaults are
the policy's."""

from __future__ import annotations

import re
from pathlib import Path

from descript_iac.controller.policy import DEFAULT_AUTO, Policy
from descript_iac.controller.settings import load_settings
from tests.builders import REPO

DOC = (REPO / "docs" / "controller.md").read_text()


def test_the_example_controller_file_loads(tmp_path: Path) -> None:
    example = re.search(r"```yaml\n(.*?)```", DOC, re.S)
    assert example is not None
    (tmp_path / "controller.yaml").write_text(example[1])
    settings = load_settings(tmp_path / "controller.yaml")
    assert settings.port == 8080 and settings.fetch_interval == 60
    assert settings.workspaces["shows"].policy.max_credits == 500
    assert settings.workspaces["drafts"].policy.hold_all
    assert settings.base_url == "https://descript-iac.example.com"


def test_the_policy_table_names_the_defaults() -> None:
    assert f"`[{', '.join(DEFAULT_AUTO)}]`" in DOC
    assert [k.value for k in Policy().auto_apply] == list(DEFAULT_AUTO)
