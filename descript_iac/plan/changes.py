"""What changed in a project's import-time inputs: which facets (from digests), and old -> new
(from the values the state keeps for reviewers; secrets masked)."""

from __future__ import annotations

import msgspec

from descript_iac.plan.model import Change, Sent
from descript_iac.plan.shown import shown
from descript_iac.state.document import ImportFacets, ShownFacets


class FacetChanges(msgspec.Struct, frozen=True):
    name: bool = False
    team_access: bool = False
    media_added: tuple[str, ...] = ()
    media_removed: tuple[str, ...] = ()
    media_changed: tuple[str, ...] = ()
    compositions_added: tuple[str, ...] = ()
    compositions_removed: tuple[str, ...] = ()
    compositions_changed: tuple[str, ...] = ()

    @property
    def any(self) -> bool:
        return any(getattr(self, f) for f in self.__struct_fields__)

    @property
    def only_additions(self) -> bool:
        return bool(self.media_added or self.compositions_added) and not (
            self.name
            or self.team_access
            or self.media_removed
            or self.media_changed
            or self.compositions_removed
            or self.compositions_changed
        )

    def describe(self) -> str:
        parts = []
        if self.name:
            parts.append("name changed")
        if self.team_access:
            parts.append("team_access changed")
        for label, names in (
            ("media added", self.media_added),
            ("media removed", self.media_removed),
            ("media changed", self.media_changed),
            ("compositions added", self.compositions_added),
            ("compositions removed", self.compositions_removed),
            ("compositions changed", self.compositions_changed),
        ):
            if names:
                parts.append(f"{label}: {', '.join(names)}")
        return "; ".join(parts)


def _compare(old: dict[str, str], new: dict[str, str]) -> tuple[tuple[str, ...], ...]:
    added = tuple(sorted(set(new) - set(old)))
    removed = tuple(sorted(set(old) - set(new)))
    changed = tuple(sorted(n for n in set(old) & set(new) if old[n] != new[n]))
    return added, removed, changed


def facet_changes(have: ImportFacets, want: ImportFacets) -> FacetChanges:
    media = _compare(have.media, want.media)
    comps = _compare(have.compositions, want.compositions)
    return FacetChanges(
        have.name != want.name,
        have.team_access != want.team_access,
        *media,
        *comps,
    )


def value_changes(have: ImportFacets, new: ShownFacets, changes: FacetChanges) -> list[Change]:
    """Old -> new for each changed facet; the old side is unknown in states before format 3."""
    old = have.shown
    known = old is not None
    old = old or ShownFacets()
    out: list[Change] = []

    def add(what: str, before: str | None, after: str | None, present: bool = True) -> None:
        out.append(Change(what=what, old=before, new=after, old_known=known and present))

    if changes.name:
        add("name", shown(old.name), shown(new.name))
    if changes.team_access:
        add("team_access", old.team_access, new.team_access)
    for name in changes.media_added:
        out.append(Change(what=f"media {name}", old=None, new=shown(new.media.get(name))))
    for name in changes.media_removed:
        add(f"media {name}", shown(old.media.get(name)), None, name in old.media)
    for name in changes.media_changed:
        add(f"media {name}", shown(old.media.get(name)), shown(new.media.get(name)))
    for name in changes.compositions_added:
        out.append(Change(what=f"composition {name}", old=None, new=new.compositions.get(name)))
    for name in changes.compositions_removed:
        add(f"composition {name}", old.compositions.get(name), None, name in old.compositions)
    for name in changes.compositions_changed:
        add(f"composition {name}", old.compositions.get(name), new.compositions.get(name))
    return out


def sends(
    values: ShownFacets, media: tuple[str, ...], compositions: tuple[str, ...]
) -> tuple[Sent, ...]:
    """What an import of `media` and `compositions` sends, as a reviewer sees it."""
    return tuple(
        [Sent(kind="media", name=n, detail=shown(values.media.get(n))) for n in media]
        + [
            Sent(kind="composition", name=n, detail=values.compositions.get(n, ""))
            for n in compositions
        ]
    )
