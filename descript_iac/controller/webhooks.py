"""Push webhooks from GitHub and GitLab: checked (GitHub's `X-Hub-Signature-256` HMAC of the body,
GitLab's `X-Gitlab-Token`), then read only for which branch moved. A push only wakes the
workspaces that watch that branch: the controller fetches the commit itself."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping

from descript_iac.controller.sources import public_url


def github_signed(body: bytes, header: str | None, secret: str | None) -> bool:
    if not secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header[len("sha256=") :].encode(), expected.encode())


def gitlab_signed(header: str | None, secret: str | None) -> bool:
    if not secret or not header:
        return False
    return hmac.compare_digest(header.encode(), secret.encode())


def pushed(body: bytes) -> tuple[set[str], str | None]:
    """The repository URLs (every spelling the payload gives) and the branch a push moved;
    (set(), None) for anything else."""
    try:
        payload = json.loads(body)
    except ValueError:
        return set(), None
    if not isinstance(payload, dict):
        return set(), None
    ref = payload.get("ref")
    branch = None
    if isinstance(ref, str) and ref.startswith("refs/heads/"):
        branch = ref[len("refs/heads/") :]
    urls: set[str] = set()
    for key in ("repository", "project"):
        repo = payload.get(key)
        if isinstance(repo, Mapping):
            for field in ("clone_url", "git_url", "ssh_url", "html_url", "git_http_url",
                          "git_ssh_url", "url", "web_url", "homepage"):  # fmt: skip
                value = repo.get(field)
                if isinstance(value, str):
                    urls.add(_norm(value))
    return urls, branch


def _norm(url: str) -> str:
    return url.rstrip("/").removesuffix(".git").lower()


def watches(remote: str, urls: set[str]) -> bool:
    """Whether a push to one of `urls` concerns the remote `remote` (credentials aside)."""
    return _norm(public_url(remote)) in urls
