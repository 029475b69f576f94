"""POST a stopped job's status to its callback_url, as Descript does (loopback only by default).

Uses the standard library: `descript_iac.api` is the only module that uses httpx.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import threading
import time
import urllib.request
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger("descript_iac.emulator.callbacks")
ATTEMPTS = 3


def allowed(url: str, extra_hosts: tuple[str, ...]) -> bool:
    host = urlsplit(url).hostname or ""
    if host in extra_hosts or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return all(
                ipaddress.ip_address(info[4][0]).is_loopback
                for info in socket.getaddrinfo(host, None)
            )
        except OSError:
            return False


def _post(url: str, payload: dict[str, Any]) -> None:
    data = json.dumps(payload).encode()
    for attempt in range(ATTEMPTS):
        request = urllib.request.Request(
            url, data=data, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                if response.status < 500:
                    return
        except OSError as exc:
            log.info("callback to %s failed (attempt %d): %s", url, attempt + 1, exc)
        time.sleep(0.2 * 2**attempt)


def _send(url: str, payload: dict[str, Any], extra_hosts: tuple[str, ...]) -> None:
    if not allowed(url, extra_hosts):  # may resolve the host name: kept off the request path
        log.warning("callback to %s refused: not a loopback host", urlsplit(url).hostname)
        return
    _post(url, payload)


def deliver(callbacks: list[tuple[str, dict[str, Any]]], extra_hosts: tuple[str, ...]) -> None:
    """Send each callback on a background thread; refused hosts are logged and skipped."""
    for url, payload in callbacks:
        threading.Thread(target=_send, args=(url, payload, extra_hosts), daemon=True).start()
