"""Published projects: metadata and subtitles by slug (within the 1,000 requests an hour)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from descript_iac.api.errors import NotFound
from descript_iac.api.models import PublishedProject
from descript_iac.errors import DescriptIacError
from descript_iac.session import ApiTarget, open_client
from descript_iac.workspace.exports import metadata_document, subtitles_text, write_if_changed


@dataclass
class PublishedOutcome:
    published: PublishedProject
    subtitles_written: bool | None = None  # None: not asked, or the page has none

    def metadata(self) -> dict[str, object]:
        """Everything but the subtitles and any signed download link."""
        return metadata_document(self.published)


def read_published(target: ApiTarget, slug: str, subtitles: Path | None = None) -> PublishedOutcome:
    """A published project's metadata; with `subtitles`, its WEBVTT captions written there."""
    with open_client(target) as client:
        try:
            published = client.published_project(slug)
        except NotFound:
            raise DescriptIacError(
                f"published project {slug!r}: not found (404). The slug is the last part of "
                "the share page's address (https://share.descript.com/view/SLUG); the page must "
                "be published and visible to this token's drive"
            ) from None
    outcome = PublishedOutcome(published)
    if subtitles is not None:
        text = subtitles_text(published)
        if text is None:
            raise DescriptIacError(f"published project {slug!r} has no subtitles to write")
        write_if_changed(subtitles, text)
        outcome.subtitles_written = True
    return outcome
