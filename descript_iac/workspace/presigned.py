"""When a pre-signed URL stops working, read from its query string.

Descript fetches Edit in Descript files after the user confirms, and retries; its docs suggest
URLs that stay valid for 48 hours. The forms read here: AWS SigV4 (`X-Amz-Date` +
`X-Amz-Expires`), Google Cloud Storage V4 (`X-Goog-Date` + `X-Goog-Expires`), an `Expires`
epoch (S3 SigV2, CloudFront, GCS V2) and Azure SAS (`se`, an ISO 8601 time).
"""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlsplit

SUGGESTED = 48 * 3600.0


def expires_at(url: str) -> float | None:
    """The epoch second a pre-signed URL expires, or None when it shows none."""
    query = {k.lower(): v for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True)}
    for prefix in ("x-amz-", "x-goog-"):
        start, seconds = query.get(prefix + "date"), query.get(prefix + "expires")
        if start and seconds:
            try:
                signed = datetime.strptime(start, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
                return signed.timestamp() + float(seconds)
            except ValueError:
                return None
    if query.get("expires"):
        try:
            return float(query["expires"])
        except ValueError:
            return None
    if query.get("se"):
        text = query["se"].replace("Z", "+00:00")
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return when.timestamp()
    return None


def public_part(url: str) -> str:
    """The URL without its query string (the signature): safe to show."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def expiry_warning(label: str, url: str, now: float) -> str | None:
    """A warning when `url` expires within 48 hours of `now` (or has expired)."""
    end = expires_at(url)
    if end is None or end - now >= SUGGESTED:
        return None
    when = datetime.fromtimestamp(end, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    shown = f"{label} ({public_part(url)})"
    if end <= now:
        return f"{shown}: its pre-signed URL expired at {when}; Descript cannot fetch it"
    hours = (end - now) / 3600
    return (
        f"{shown}: its pre-signed URL expires at {when}, in {hours:.1f} hours; Descript suggests "
        "URLs valid for 48 hours (it fetches after the user confirms, and retries)"
    )
