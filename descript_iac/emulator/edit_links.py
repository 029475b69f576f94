"""Edit in Descript (`POST /v1/edit_in_descript/schema`): a one-time import link for the
token's own drive, valid for 3 hours."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from descript_iac.emulator import validation as v
from descript_iac.emulator.exceptions import Forbidden, InvalidInput

if TYPE_CHECKING:
    from descript_iac.emulator.backend import Backend

LINK_SECONDS = 3 * 3600


def create_link(backend: Backend, token: str, body: Any) -> dict[str, str]:
    body = v.require_object(body)
    drive = body.get("partner_drive_id")
    if not isinstance(drive, str) or not drive:
        raise InvalidInput("partner_drive_id is required")
    if drive != backend.drive_id(token):
        raise Forbidden("partner_drive_id is not the drive associated with this token")
    schema = v.require_object(body.get("project_schema"), "project_schema")
    if not isinstance(schema.get("schema_version"), str):
        raise InvalidInput("project_schema.schema_version is required")
    v.optional_str(schema, "source_id")
    files = schema.get("files")
    if not isinstance(files, list) or not files:
        raise InvalidInput("project_schema.files must be a non-empty array")
    for i, item in enumerate(files):
        item = v.require_object(item, f"project_schema.files[{i}]")
        v.http_url(item.get("uri"), f"project_schema.files[{i}].uri")
        v.optional_str(item, "name")
        if "start_offset" in item:
            offset = v.require_object(item["start_offset"], "start_offset")
            seconds = offset.get("seconds", 0)
            if not v.is_number(seconds) or seconds < 0:
                raise InvalidInput("start_offset.seconds must be a number >= 0")
    link = secrets.token_urlsafe(16)
    backend.import_links[link] = {
        "expires_at": backend.clock.now() + LINK_SECONDS,
        "files": len(files),
        "source_id": schema.get("source_id"),
    }
    return {"url": f"https://web.descript.com/import?nonce={link}"}
