"""The canonical layout of workspace files (`descript-iac fmt`).

A ruamel.yaml round trip keeps what a person wrote: comments (the `# yaml-language-server:
$schema=` header too), key order, quoting, flow or block style, anchors and blank lines. What it
makes uniform: two-space indentation, block sequences indented under their key (`- ` at +2),
no trailing whitespace, one final newline. Long lines are never wrapped (a prompt stays one
line). Formatting a formatted file changes nothing.
"""

from __future__ import annotations

import difflib
import io
import os
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from descript_iac.errors import DescriptIacError


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    yaml.preserve_quotes = True
    yaml.allow_unicode = True
    yaml.brace_single_entry_mapping_in_flow_sequence = True  # [{media: a}], not [media: a]
    return yaml


def canonical(text: str, where: str) -> str:
    """`text` in the canonical layout; a file that is not YAML is an error at its line."""
    yaml = _yaml()
    try:
        data = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or exc.context or "invalid YAML"
        raise DescriptIacError(
            f"{where}:{line}:{column}: YAML syntax error: {what}; fix it, then run fmt again"
        ) from None
    except YAMLError as exc:
        raise DescriptIacError(f"{where}: YAML syntax error: {exc}") from None
    if data is None:
        return text
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


@dataclass(frozen=True)
class Formatted:
    path: Path
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def diff(self) -> str:
        name = str(self.path)
        lines = difflib.unified_diff(
            self.before.splitlines(keepends=True),
            self.after.splitlines(keepends=True),
            fromfile=f"{name} (now)",
            tofile=f"{name} (formatted)",
        )
        return "".join(lines)


def format_files(files: list[Path]) -> list[Formatted]:
    """Every file in its canonical layout (nothing is written)."""
    out = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DescriptIacError(f"{path}: cannot read it ({exc})") from None
        out.append(Formatted(path, text, canonical(text, str(path))))
    return out


def write(formatted: Formatted) -> None:
    """Replace the file with its formatted text (atomically: a temp file, then a rename)."""
    tmp = formatted.path.with_name(f".{formatted.path.name}.{os.getpid()}.fmt")
    try:
        tmp.write_text(formatted.after, encoding="utf-8")
        os.replace(tmp, formatted.path)
    finally:
        if tmp.exists():
            tmp.unlink()
