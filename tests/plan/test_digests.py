"""The digests in a state are compared with the config's on every plan: a faster way to compute
them must give the same strings, or every recorded project would look changed."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from descript_iac.config import load_workspace
from descript_iac.config.model import UrlMedia
from descript_iac.plan import digests, shown
from descript_iac.redact import salted_digest

SALT = "0123456789abcdef0123456789abcdef"


def reference_salted(salt: str, *values: str) -> str:
    h = hashlib.sha256(salt.encode())
    for value in values:
        h.update(b"\x00")
        h.update(value.encode())
    return "sha256:" + h.hexdigest()[:32]


def reference_identity(salt: str, item: UrlMedia) -> str:
    """The identity as first released (urlsplit on every URL)."""
    parts = urlsplit(item.url)
    host = (parts.hostname or "").lower() + (f":{parts.port}" if parts.port else "")
    revision = "" if item.revision is None else str(item.revision)
    return reference_salted(
        salt, "url", parts.scheme.lower(), host, parts.path, revision, item.language or ""
    )


URLS = [
    "https://cdn.example.com/ep1/host.wav",
    "https://cdn.example.com/ep1/host.wav?sig=abc&x=1",
    "https://CDN.Example.COM/Path/A.WAV#frag",
    "http://cdn.example.com:8080/a.wav",
    "http://cdn.example.com:0080/a.wav",
    "http://cdn.example.com:0/a.wav",
    "http://cdn.example.com:65535/a.wav",
    "https://cdn.example.com",
    "https://cdn.example.com?only=query",
    "HTTPS://cdn.example.com/upper-scheme",
    "https://user:pw@cdn.example.com/a.wav",
    "https://[::1]:8443/a.wav",
    "https://cdn.example.com/a b.wav",
    "https://cdn.example.com/a\tb.wav",
    " https://cdn.example.com/lead-space",
    "https://bücher.example/a.wav",
    "https://cdn.example.com/a.wav?q=a b",
    "https://cdn.example.com:/a.wav",
]


@pytest.mark.parametrize("url", URLS)
def test_url_identity_matches_urlsplit(url: str) -> None:
    item = UrlMedia(url=url, revision=3, language="en")
    assert digests.media_identity(SALT, item) == reference_identity(SALT, item)


@given(st.from_regex(r"\Ahttps?://[a-zA-Z0-9.:@\[\]-]{0,20}[/?#]?[ -~]{0,20}\Z", fullmatch=True))
def test_url_identity_matches_urlsplit_on_generated_urls(url: str) -> None:
    try:
        expected = reference_identity(SALT, UrlMedia(url=url))
    except ValueError:  # urlsplit refuses it (bad port, bad brackets): so must we
        with pytest.raises(ValueError):
            digests.media_identity(SALT, UrlMedia(url=url))
        return
    assert digests.media_identity(SALT, UrlMedia(url=url)) == expected


@given(st.text(), st.lists(st.text(), max_size=4))
def test_salted_digest_is_unchanged(salt: str, values: list[str]) -> None:
    assert salted_digest(salt, *values) == reference_salted(salt, *values)


@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers() | st.text(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
        max_leaves=10,
    )
)
def test_canonical_text_is_json_dumps(value: object) -> None:
    import json

    assert digests._canonical(value) == json.dumps(value, sort_keys=True)
    assert digests._dumps(value) == json.dumps(value)


def reference_without_query(url: str) -> str:
    """The shown URL as first released (urlsplit and urlunsplit on every URL)."""
    from urllib.parse import urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


@pytest.mark.parametrize("url", [*URLS, "http://cdn.example.com:99999/a.wav", "https://h.io/p?"])
def test_shown_url_matches_urlsplit(url: str) -> None:
    assert shown.without_query(url) == reference_without_query(url)


@given(st.from_regex(r"\Ahttps?://[a-zA-Z0-9.:@\[\]-]{0,20}[/?#]?[ -~]{0,20}\Z", fullmatch=True))
def test_shown_url_matches_urlsplit_on_generated_urls(url: str) -> None:
    assert shown.without_query(url) == reference_without_query(url)


def _project(address: str, prompt: str) -> str:
    return f"  {address}:\n    steps:\n      - {{id: s, prompt: {prompt}}}\n"


def _config_digest(root: Path, files: dict[str, list[str]]) -> str:
    """The config digest of a workspace whose files hold the given projects' YAML."""
    for old in root.glob("*.yaml"):
        old.unlink()
    for name, projects in files.items():
        (root / name).write_text("version: 1\nprojects:\n" + "".join(projects))
    workspace = load_workspace(root)
    wanted = {a: digests.wanted(SALT, p) for a, p in workspace.projects.items()}
    return digests.config_digest(SALT, workspace.projects, wanted)


def test_config_digest_follows_the_projects_and_their_files_not_the_files_names(
    tmp_path: Path,
) -> None:
    """A file's part of the config digest is kept by an incremental plan, so the digest is made
    of files' parts: a saved plan is still the reviewed one after a file is renamed (the plan
    is applied from another checkout), and not after any project changes or changes file."""
    a, b, c = _project("a", "Cut"), _project("b", "Trim"), _project("c", "Mix")
    first = _config_digest(tmp_path, {"one.yaml": [a, b], "two.yaml": [c]})
    assert _config_digest(tmp_path, {"zz.yaml": [b, a], "aa.yaml": [c]}) == first
    assert _config_digest(tmp_path, {"one.yaml": [a, b], "two.yaml": [c, "\n"]}) == first
    changed = [
        {"one.yaml": [a, _project("b", "Trim more")], "two.yaml": [c]},
        {"one.yaml": [a], "two.yaml": [b, c]},
        {"one.yaml": [a, b]},
        {"one.yaml": [a, b], "two.yaml": [c, _project("d", "Mix")]},
    ]
    digests_seen = {first, *(_config_digest(tmp_path, files) for files in changed)}
    assert len(digests_seen) == 1 + len(changed)
