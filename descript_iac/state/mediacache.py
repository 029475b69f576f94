"""Probed media durations (api/media_probe.py), kept for good per file: the key is the URL
without its query string, its ETag and its length, so a file changed in place is probed again
and a rotated signature is not. Like the job cache, it is only a cache: on a full or broken disk
it turns itself off for the run. It holds no secret (no query string, no token)."""

from __future__ import annotations

import contextlib
import logging
import math
from pathlib import Path

import diskcache

from descript_iac.state.jobcache import FAILURES

log = logging.getLogger("descript_iac.mediacache")


class MediaCache:
    def __init__(self, directory: Path) -> None:
        self._cache: diskcache.Cache | None = None
        try:
            self._cache = diskcache.Cache(str(directory), size_limit=32 * 1024 * 1024)
        except FAILURES as exc:
            log.warning("media cache %s turned off for this run: %s", directory, exc)

    def duration(self, key: str) -> float | None:
        if self._cache is None:
            return None
        try:
            value = self._cache.get(key)
        except FAILURES:
            return None
        return float(value) if isinstance(value, float) and math.isfinite(value) else None

    def keep(self, key: str, seconds: float) -> None:
        if self._cache is not None:
            with contextlib.suppress(*FAILURES):
                self._cache.set(key, float(seconds))

    def close(self) -> None:
        if self._cache is not None:
            with contextlib.suppress(*FAILURES):
                self._cache.close()
