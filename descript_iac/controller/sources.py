"""Where a watched workspace comes from, and which revision of it is current.

A local directory's revision is the digest of its workspace files; a git source is cloned once
under the controller's data directory, fetched on each check (`git` as a subprocess, never a
prompt), and its revision is the fetched branch's commit.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from descript_iac.config.files import workspace_files
from descript_iac.controller.settings import WatchedWorkspace
from descript_iac.errors import DescriptIacError

GIT_TIMEOUT = 120.0


@dataclass(frozen=True)
class Revision:
    id: str  # a commit, or "files:<digest>" for a directory
    root: Path  # the workspace directory at that revision


class Source:
    def __init__(self, name: str, watched: WatchedWorkspace, data_dir: Path) -> None:
        self.name = name
        self.watched = watched
        self.checkout = data_dir / "sources" / name

    def describe(self) -> str:
        w = self.watched
        return str(w.dir) if w.dir is not None else f"{public_url(w.git or '')} ({w.branch})"

    def current(self) -> Revision:
        """Fetch (git) and say which revision is current; raises DescriptIacError."""
        if self.watched.dir is not None:
            root = self.watched.dir
            return Revision("files:" + _files_digest(root), root)
        return self._fetch()

    def _fetch(self) -> Revision:
        w = self.watched
        assert w.git is not None
        repo = self.checkout
        if not (repo / ".git").exists():
            repo.mkdir(parents=True, exist_ok=True)
            _git(repo, "init", "-q")
        try:
            _git(repo, "fetch", "-q", "--depth", "50", w.git, f"refs/heads/{w.branch}")
        except DescriptIacError as exc:  # git may quote the URL, credentials and all
            raise DescriptIacError(str(exc).replace(w.git, public_url(w.git))) from None
        _git(repo, "checkout", "-q", "--force", "--detach", "FETCH_HEAD")
        commit = _git(repo, "rev-parse", "HEAD").strip()
        return Revision(commit, (repo / w.path).resolve())


def _files_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in workspace_files(root):
        digest.update(path.name.encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError as exc:
            raise DescriptIacError(f"{path}: cannot read: {exc.strerror}") from exc
    return digest.hexdigest()[:16]


def public_url(url: str) -> str:
    """A remote URL without the credentials it may carry (https://user:token@host/...)."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        rest = rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DescriptIacError(f"git {args[0]} failed: {exc}") from exc
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
        raise DescriptIacError(f"git {args[0]} failed: {detail}")
    return done.stdout
