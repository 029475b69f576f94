"""`redact` and `scrub`: every secret-shaped thing is masked, ordinary text is left alone."""

from __future__ import annotations

import re

import pytest

from descript_iac import redact as r
from descript_iac.redact import MASK, forget_secrets, redact, register_secret, scrub

SECRET_SHAPED = [
    # (text, the secret part that must disappear)
    ("get https://cdn.example.com/a.wav?X-Amz-Signature=abc123 now", "abc123"),
    ("HTTPS://BUCKET.S3.AMAZONAWS.COM/b.wav?X-Amz-Signature=SIG0001", "SIG0001"),
    ("Http://cdn.example.com/b.wav?sig=MiXeD1", "MiXeD1"),
    ("cdn.example.com/b.wav?sig=nosch3me", "nosch3me"),
    ("(see cdn.example.com:8443/x/b.wav?token=inparens1)", "inparens1"),
    ('{"url": "media.example.co.uk/b.mp4?Signature=json99"}', "json99"),
    ("Failed to download url=https://x.io/a.wav?sig=after-equals", "after-equals"),
    ("cdn.example.com?sig=nopath42", "nopath42"),
    ("s3://bucket/key.wav?versionId=v3rsion", "v3rsion"),
    ("postgresql://admin:hunter2pw@db.internal:5432/state", "hunter2pw"),
    ("Authorization: Bearer sk_live_0123456789abcdef", "sk_live_0123456789abcdef"),
    ("invalid token BEARER abc.def.ghi123 refused", "abc.def.ghi123"),
    ("Basic dXNlcjpwYXNzd29yZDE=", "dXNlcjpwYXNzd29yZDE="),
]

ORDINARY = [
    "Done! I've removed filler words and added karaoke-style captions.",
    "Is this ok? Yes it is. What about e.g.? Fine.",
    "Remove filler words (um, uh?) from clip 2.",
    "x=1?y=2 and version 1.2?a=b stay as they are",
    "Did you open notes.md?Yes.",
    "The bearer of bad news arrived.",
    "Read https://example.com/docs for more",
    "Media raw/host.wav and Misc/intro.mp4 imported at 2024-05-01T10:00:00Z",
    "email me at someone@example.com",
]


@pytest.mark.parametrize(("text", "secret"), SECRET_SHAPED)
def test_secret_shaped_text_is_masked(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out
    assert MASK in out


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_url_keeps_its_public_part() -> None:
    assert redact("HTTPS://cdn.example.com/a.wav?sig=x") == f"HTTPS://cdn.example.com/a.wav?{MASK}"
    assert redact("cdn.example.com/b.wav?sig=x y") == f"cdn.example.com/b.wav?{MASK} y"


def test_registered_secret_and_its_escaped_forms_are_masked() -> None:
    register_secret('pa"ss/wörd-123')
    assert "123" not in redact('reply: pa"ss/wörd-123')
    assert "123" not in redact('{"prompt": "pa\\"ss/w\\u00f6rd-123"}')
    assert "123" not in redact("q=pa%22ss%2Fw%C3%B6rd-123")


def test_short_secrets_are_not_substring_masked() -> None:
    register_secret("ab")
    assert redact("about abba") == "about abba"


def test_scrub_walks_values_and_keeps_keys_and_identifiers() -> None:
    register_secret("2024-SECRET-VALUE")
    register_secret("2024")
    value = {
        "agent_response": "Added the title '2024-SECRET-VALUE' from cdn.example.com/a.wav?sig=1",
        "job_id": "2024abcd",
        "created_at": "2024-05-01T10:00:00Z",
        "media": {"raw/2024.wav": {"error_message": "HTTPS://x.io/a.wav?X-Amz-Signature=s"}},
        "steps": [{"error_message": "Bearer tok_0123456789"}, 3, None, True],
    }
    out = scrub(value)
    assert out["job_id"] == "2024abcd" and out["created_at"] == "2024-05-01T10:00:00Z"
    assert "raw/2024.wav" in out["media"]  # keys are never changed
    text = repr(out)
    for secret in ("SECRET-VALUE", "sig=1", "Signature=s", "tok_0123456789"):
        assert secret not in text
    assert out["steps"][1:] == [3, None, True]
    assert value["job_id"] == "2024abcd"  # the input is not modified


def test_scan_is_linear_on_hostile_text() -> None:
    """A long run without delimiters is scanned once per run, not once per character."""
    calls = 0
    original = r._is_secret_query

    def counting(prefix: str, query: str) -> bool:
        nonlocal calls
        calls += 1
        return original(prefix, query)

    r._is_secret_query = counting  # type: ignore[assignment]
    try:
        hostile = ("a." * 200_000) + "com/x?sig=1"
        out = redact(hostile)
    finally:
        r._is_secret_query = original  # type: ignore[assignment]
    assert calls == 1
    assert out.endswith(f"?{MASK}")
    assert re.search(r"sig=1", out) is None


def test_scrub_keeps_digests_and_uuids_under_any_key() -> None:
    register_secret("beef")
    value = {
        "media": {"a.wav": "sha256:00beef0000000000000000000000beef"},
        "other": "0000beef-0000-4000-8000-00000000beef",
        "note": "beef stew",
    }
    out = scrub(value)
    assert out["media"] == value["media"] and out["other"] == value["other"]
    assert out["note"] == f"{MASK} stew"


def test_a_mapping_under_an_identifier_key_is_walked() -> None:
    """The workspace's `state:` block is a mapping under the key `state`: its database URL must
    be scrubbed (the workspace cache stores what `scrub` returns), while plain identifiers
    under such keys, and lists of them, are kept as they are."""
    value = {
        "state": {"backend": "postgresql", "url": "postgresql://ci:hunter2pw@db.example:5432/x"},
        "candidates": ["2024abcd", "2024efgh"],
        "status": "2024",
    }
    register_secret("2024")
    out = scrub(value)
    assert "hunter2pw" not in repr(out)
    assert out["state"]["url"] == "postgresql://***@db.example:5432/x"
    assert out["candidates"] == ["2024abcd", "2024efgh"] and out["status"] == "2024"


def test_a_secret_registered_after_a_text_was_redacted_is_masked_in_it() -> None:
    """`redact` remembers results for short texts: a secret registered later still counts."""
    text = "prompt: use the code hunter2-xyz"
    assert redact(text) == text
    register_secret("hunter2-xyz")
    assert redact(text) == "prompt: use the code ***"
    forget_secrets()
    assert redact(text) == text


def test_a_string_holding_a_uuid_is_still_scrubbed() -> None:
    """Only a value that IS an identifier is kept as it is: text that merely contains one (an
    agent's reply quoting a job id next to a secret) is scrubbed like any other text."""
    register_secret("s3cr3t-token-value")
    reply = "job 0000beef-0000-4000-8000-00000000beef used s3cr3t-token-value"
    digest_and_more = "sha256:00beef0000000000000000000000beef s3cr3t-token-value"
    out = scrub({"response": reply, "note": digest_and_more})
    assert "s3cr3t-token-value" not in repr(out)
    assert out["response"] == f"job 0000beef-0000-4000-8000-00000000beef used {MASK}"


def test_every_spelling_of_a_registered_secret_is_masked() -> None:
    """A server may echo a secret in another spelling (issue #28): the pre-signed URL's query
    values percent-decoded, re-encoded or encoded twice, a hex signature in any case, the value
    in base64 (alone, or inside a longer base64 text such as a Basic credential)."""
    import base64

    hex_sig = "9f86d081884c7d659a2feaa0c55ad015"
    url = f"https://b.example.com/a.wav?X-Amz-Expires=3600&X-Amz-Signature={hex_sig}&sig=AZSENT%2Bq%2Fw%3D"
    register_secret(url)
    register_secret("tok-SPELLING-123")
    b64 = base64.b64encode(b"tok-SPELLING-123").decode()
    basic = base64.b64encode(b"someone:tok-SPELLING-123").decode()
    for echoed in (
        "AZSENT+q/w=",  # percent-decoded
        "AZSENT%2bq%2fw%3d",  # lower-case escapes
        "AZSENT%252Bq%252Fw%253D",  # encoded twice
        hex_sig.upper(),
        "9F86d081884C7D659a2feaa0c55ad015",  # mixed case
        b64,
        b64.rstrip("="),
    ):
        assert redact(f"server says [{echoed}] ok") == f"server says [{MASK}] ok", echoed
    # Inside a longer base64 text (user:token), not as a credential: the token's part is gone.
    shown = redact(f"blob {basic} end")
    assert basic[12:36] not in shown and shown.startswith("blob ") and shown.endswith(" end")
    # What says how, not who, stays readable: the expiry, a short number.
    assert redact("expires in 3600 s") == "expires in 3600 s"


def test_a_case_variant_of_a_case_sensitive_secret_is_left_alone() -> None:
    register_secret("PassWord-Zebra-99")
    assert redact("password-zebra-99") == "password-zebra-99"
    assert redact("PassWord-Zebra-99") == MASK
    assert scrub({"m": "x PASSWORD-zebra-99"}) == {"m": "x PASSWORD-zebra-99"}
