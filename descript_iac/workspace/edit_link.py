"""Edit in Descript: post a project schema, get a one-time import URL (valid for 3 hours).

The drive id defaults to the token's own, found from the API and remembered per account. The
import URL is returned to the caller only: it is never written to a state, a cache or a log.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from descript_iac.api.errors import Forbidden
from descript_iac.api.models import (
    EditInDescriptRequest,
    ProjectSchema,
    SchemaFile,
    StartOffset,
)
from descript_iac.config.validation.references import url_problem
from descript_iac.errors import DescriptIacError
from descript_iac.session import ApiTarget, open_client, own_drive_id
from descript_iac.workspace.presigned import expiry_warning, public_part

LINK_LIFETIME = 3 * 3600.0  # the docs: import links expire after 3 hours
SCHEMA_VERSION = "1.0.0"


@dataclass(frozen=True)
class LinkFile:
    uri: str
    name: str | None = None
    start_offset: float | None = None


@dataclass
class EditLink:
    url: str  # one-time import URL: show it, never store it
    expires_at: float  # local epoch seconds
    partner_drive_id: str


def pair_files(
    uris: tuple[str, ...], names: tuple[str, ...], offsets: tuple[float, ...]
) -> list[LinkFile]:
    """`--file`, `--name` and `--start-offset` given in order: the n-th name is the n-th file's."""
    if not uris:
        raise DescriptIacError("edit-link: give at least one --file URI")
    for option, values in (("--name", names), ("--start-offset", offsets)):
        if len(values) > len(uris):
            raise DescriptIacError(
                f"edit-link: {len(values)} {option} for {len(uris)} --file; each applies to the "
                "--file in the same position"
            )
    files = []
    for i, uri in enumerate(uris):
        why = url_problem(uri)
        if why:
            raise DescriptIacError(f"--file {i + 1} ({public_part(uri)}): the URI {why}")
        offset = offsets[i] if i < len(offsets) else None
        if offset is not None and offset < 0:
            raise DescriptIacError(f"--start-offset {offset:g}: give zero or more seconds")
        files.append(LinkFile(uri, names[i] if i < len(names) else None, offset))
    return files


def expiry_warnings(files: list[LinkFile], now: float | None = None) -> list[str]:
    """Warnings for files whose pre-signed URLs expire within 48 hours (the docs' advice)."""
    now = time.time() if now is None else now
    found = (expiry_warning(f"--file {i + 1}", f.uri, now) for i, f in enumerate(files))
    return [w for w in found if w]


def edit_link(
    target: ApiTarget,
    files: list[LinkFile],
    *,
    source_id: str | None = None,
    partner_drive_id: str | None = None,
) -> EditLink:
    """Post the schema; return the one-time import URL and when it expires."""
    with open_client(target) as client:
        drive = partner_drive_id or own_drive_id(target, client)
        if not drive:
            raise DescriptIacError(
                "edit-link: the token's drive id could not be found (the drive has no job or "
                "project to show it yet); pass --partner-drive-id UUID"
            )
        schema = ProjectSchema(
            schema_version=SCHEMA_VERSION,
            source_id=source_id,
            files=[
                SchemaFile(
                    uri=f.uri,
                    name=f.name,
                    start_offset=StartOffset(seconds=f.start_offset)
                    if f.start_offset is not None
                    else None,
                )
                for f in files
            ],
        )
        try:
            reply = client.edit_in_descript(
                EditInDescriptRequest(partner_drive_id=drive, project_schema=schema)
            )
        except Forbidden as exc:
            raise DescriptIacError(
                f"edit-link: the API refused drive {drive} (403: {exc.api_message}). Edit in "
                "Descript works only for the token's own drive: "
                + (
                    "omit --partner-drive-id to use it"
                    if partner_drive_id
                    else "check that your account has Edit in Descript access"
                )
            ) from None
        return EditLink(reply.url, time.time() + LINK_LIFETIME, drive)
