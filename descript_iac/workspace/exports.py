"""Exports: files refreshed by every apply from published projects (captions as WEBVTT, metadata
as JSON), written beside the config so a pull request shows their diff.

A file is rewritten only when its content changed (atomically: temp file, rename). The metadata
never holds the signed `download_url` the 2026 API adds; paths stay inside the workspace.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from descript_iac.api import DescriptClient
from descript_iac.api.errors import ApiError, BudgetExhausted, TransportFailure
from descript_iac.api.models import PublishedProject
from descript_iac.config.desired import DesiredProject, Workspace
from descript_iac.config.model import Export
from descript_iac.errors import DescriptIacError
from descript_iac.redact import redact
from descript_iac.state.document import StateDocument


@dataclass(frozen=True)
class ExportResult:
    address: str
    source: str  # the slug, or "composition NAME"
    written: tuple[str, ...] = ()  # files rewritten (their content changed)
    unchanged: tuple[str, ...] = ()
    error: str | None = None

    def describe(self) -> str:
        if self.error:
            return f"{self.address}: export of {self.source} failed: {self.error}"
        parts = [f"wrote {p}" for p in self.written] + [f"{p} unchanged" for p in self.unchanged]
        return f"{self.address}: export of {self.source}: {', '.join(parts) or 'nothing to write'}"


def metadata_document(published: PublishedProject) -> dict[str, Any]:
    """What a metadata export holds: all but the subtitles and any signed download link."""
    data = published.model_dump(mode="json", exclude_none=True)
    for key in ("subtitles", "download_url", "download_url_expires_at"):
        data.pop(key, None)
    return data


def metadata_text(published: PublishedProject) -> str:
    text = json.dumps(metadata_document(published), indent=2, sort_keys=True, ensure_ascii=False)
    return redact(text) + "\n"


def subtitles_text(published: PublishedProject) -> str | None:
    if not published.subtitles:
        return None
    text = published.subtitles
    return text if text.endswith("\n") else text + "\n"


def write_if_changed(path: Path, text: str) -> bool:
    """Write `text` to `path` atomically unless it already holds it; True when written."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return True


def inside(root: Path, relative: str) -> Path:
    """`relative` under `root`, refusing any path (or symlink) that leads out of it."""
    target = (root / relative).resolve()
    if not target.is_relative_to(root.resolve()):
        raise DescriptIacError(f"{relative}: leads outside the workspace {root}; nothing written")
    return target


def slug_of(share_url: str) -> str:
    """A published project's slug: the last segment of its share page's address."""
    return urlsplit(share_url).path.rstrip("/").rsplit("/", 1)[-1]


def _source(project: DesiredProject, export: Export, doc: StateDocument) -> tuple[str, str | None]:
    """(what to call the source, its slug or None when it has no share page yet)."""
    if export.published:
        return export.published, export.published
    name = export.composition or ""
    state = doc.projects.get(project.address)
    record = state.publishes.get(name) if state is not None else None
    label = f"composition {name}"
    if record is None or not record.share_url or record.status != "success":
        return label, None
    return f"{label} ({slug_of(record.share_url)})", slug_of(record.share_url)


def refresh_exports(
    client: DescriptClient,
    workspace: Workspace,
    doc: StateDocument,
    addresses: list[str] | None = None,
) -> list[ExportResult]:
    """Refresh every export of the workspace's projects (or of `addresses`)."""
    results: list[ExportResult] = []
    stop: str | None = None
    for address, project in sorted(workspace.projects.items()):
        if addresses is not None and address not in addresses:
            continue
        for export in project.spec.exports:
            label, slug = _source(project, export, doc)
            if stop is not None:
                results.append(ExportResult(address, label, error=stop))
                continue
            if slug is None:
                why = "the composition has no successful publish yet; the next apply exports it"
                results.append(ExportResult(address, label, error=why))
                continue
            try:
                published = client.published_project(slug)
                results.append(_write(workspace.root, address, label, export, published))
            except BudgetExhausted as exc:
                stop = str(exc)
                results.append(ExportResult(address, label, error=stop))
            except (ApiError, TransportFailure, DescriptIacError) as exc:
                results.append(ExportResult(address, label, error=str(exc)))
    return results


def _write(
    root: Path, address: str, label: str, export: Export, published: PublishedProject
) -> ExportResult:
    written: list[str] = []
    unchanged: list[str] = []
    files = []
    if export.subtitles:
        text = subtitles_text(published)
        if text is None:
            return ExportResult(address, label, error="the published project has no subtitles")
        files.append((export.subtitles, text))
    if export.metadata:
        files.append((export.metadata, metadata_text(published)))
    for relative, text in files:
        changed = write_if_changed(inside(root, relative), text)
        (written if changed else unchanged).append(relative)
    return ExportResult(address, label, tuple(written), tuple(unchanged))
