"""`--api-url` is checked before the token goes anywhere (issue #28): https for any host but
this machine (unless allowed), no user name or password (httpx would send them as Basic auth
instead of the token), no query string (paths are added after it)."""

from __future__ import annotations

import pytest

from descript_iac.api.credentials import resolve_base_url
from descript_iac.errors import DescriptIacError


@pytest.mark.parametrize(
    ("url", "env", "ok"),
    [
        ("https://descriptapi.com/v1", {}, True),
        ("http://127.0.0.1:8765/v1", {}, True),
        ("http://localhost:8765/v1", {}, True),
        ("http://[::1]:8765/v1", {}, True),
        ("http://api.example.com/v1", {}, False),
        ("http://api.example.com/v1", {"DESCRIPT_IAC_ALLOW_HTTP": "1"}, True),
        ("https://user:s3cr3tpw@descriptapi.com/v1", {}, False),
        ("https://token@descriptapi.com/v1", {}, False),
        ("https://descriptapi.com/v1?key=abc", {}, False),
        ("https://descriptapi.com/v1#x", {}, False),
        ("ftp://descriptapi.com/v1", {}, False),
    ],
)
def test_api_url_table(url: str, env: dict[str, str], ok: bool) -> None:
    if ok:
        assert resolve_base_url(url, env) == url.rstrip("/")
        return
    with pytest.raises(DescriptIacError) as info:
        resolve_base_url(url, env)
    assert "s3cr3tpw" not in str(info.value) and "abc" not in str(info.value)  # never echoed
