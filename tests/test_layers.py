"""The packages' layers (docs/architecture.md): each package imports only from the layers below
it, so the engine stays a library, and each concept lives in one place. Read from the source's
import statements (module level and inside functions), so a late import cannot hide a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.builders import REPO

PACKAGE = REPO / "descript_iac"

# What each package may never import (directly or inside a function).
FORBIDDEN = {
    "apply": ("adoption", "workspace", "cli", "controller"),
    "adoption": ("workspace", "cli", "controller"),
    "plan": ("apply", "adoption", "workspace", "cli", "controller"),
    "config": ("apply", "adoption", "workspace", "cli", "controller", "plan"),
    "state": ("apply", "adoption", "workspace", "cli", "controller"),
    "workspace": ("cli", "controller"),
}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("descript_iac.")}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_nothing_from_the_layers_above_it(package: str) -> None:
    wrong = []
    for path in sorted((PACKAGE / package).rglob("*.py")):
        for name in _imports(path):
            layer = name.split(".")[1]
            if layer in FORBIDDEN[package]:
                wrong.append(f"{path.relative_to(REPO)} imports {name}")
    assert wrong == [], "\n".join(wrong)


def test_adoption_lives_in_one_package_and_apply_holds_only_what_runs_a_plan() -> None:
    apply = {p.stem for p in (PACKAGE / "apply").glob("*.py")}
    assert not apply & {"adoption", "rebuild", "exports"}, apply
    assert {p.stem for p in (PACKAGE / "adoption").glob("*.py")} >= {"records", "rebuild"}
