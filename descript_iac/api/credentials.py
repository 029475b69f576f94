"""Where the API is and who we are: base URL and token, from options, environment or config.

The token is kept in a `Token` whose repr and str never show it. The user config file written by
`descript-iac config set api-key` is created with mode 0600, and refused when group or others
can read it.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from descript_iac.errors import DescriptIacError
from descript_iac.redact import register_secret

DEFAULT_API_URL = "https://descriptapi.com/v1"
TOKEN_VARS = ("DESCRIPT_API_TOKEN", "DESCRIPT_API_KEY")


class Token:
    """An API token. `str()` and `repr()` are masked; `.reveal()` is for the auth header only."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value.strip()
        register_secret(self._value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Token(***)"

    __str__ = __repr__


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".config")
    return Path(base) / "descript-iac" / "config.json"


def _read_config(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise DescriptIacError(
            f"{path} is readable by group or others (mode {mode:o}) and holds your API token; "
            f"run `chmod 600 {path}` and try again"
        )
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DescriptIacError(
            f"{path}: cannot read the config ({exc}); fix it or run "
            "`descript-iac config set api-key` again"
        ) from None
    return data if isinstance(data, dict) else {}


def save_api_key(value: str, environ: Mapping[str, str] | None = None) -> Path:
    """Store the token in the user config, readable by the user only."""
    value = value.strip()
    if not value:
        raise DescriptIacError("the API key is empty; nothing was saved")
    path = config_path(environ)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = _read_config(path) if path.exists() else {}
    data["api_key"] = value
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


@dataclass(frozen=True)
class Credentials:
    base_url: str
    token: Token


PLAIN_HTTP_VAR = "DESCRIPT_IAC_ALLOW_HTTP"  # 1: allow http:// to a host other than loopback


def resolve_base_url(option: str | None, environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    url = option or env.get("DESCRIPT_API_URL") or DEFAULT_API_URL
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DescriptIacError(
            f"API URL {url!r} is not an http(s) URL; give one like {DEFAULT_API_URL} "
            "(--api-url or DESCRIPT_API_URL)"
        )
    shown = f"{parts.scheme}://{parts.hostname}{parts.path}"
    if parts.username is not None or parts.password is not None:
        raise DescriptIacError(
            f"API URL {shown}: a user name or password in the URL is refused (it would be sent "
            "instead of the token, as Basic auth); give the token in DESCRIPT_API_TOKEN"
        )
    if parts.query or parts.fragment:
        raise DescriptIacError(
            f"API URL {shown}: a query string or fragment is refused (paths are added after "
            f"it); give the base URL only, like {DEFAULT_API_URL}"
        )
    loopback = parts.hostname in ("localhost", "::1") or parts.hostname.startswith("127.")
    if parts.scheme == "http" and not loopback and env.get(PLAIN_HTTP_VAR) != "1":
        raise DescriptIacError(
            f"API URL {shown}: plain http to a host other than this machine would send the token "
            f"in clear text; use https, or set {PLAIN_HTTP_VAR}=1 if the network is yours"
        )
    return url.rstrip("/")


def resolve_token(environ: Mapping[str, str] | None = None) -> Token:
    env = os.environ if environ is None else environ
    for name in TOKEN_VARS:
        if env.get(name, "").strip():
            return Token(env[name])
    path = config_path(env)
    saved = _read_config(path).get("api_key", "")
    if saved.strip():
        return Token(saved)
    raise DescriptIacError(
        "no Descript API token. Give one in any of three ways: set DESCRIPT_API_TOKEN "
        "(or DESCRIPT_API_KEY), or run `descript-iac config set api-key` to save it in "
        f"{path}. To try descript-iac without a token, use --emulator."
    )


def resolve(option_url: str | None, environ: Mapping[str, str] | None = None) -> Credentials:
    return Credentials(resolve_base_url(option_url, environ), resolve_token(environ))
