"""Typed API errors. Messages name the endpoint and what to do; never the token."""

from __future__ import annotations

from descript_iac.errors import DescriptIacError
from descript_iac.terminal_text import one_line


class ApiError(DescriptIacError):
    """The API answered with an error body `{"error", "message"}`."""

    hint = ""

    def __init__(self, endpoint: str, status: int, code: str, message: str) -> None:
        self.endpoint = endpoint
        self.status = status
        self.code = code
        self.api_message = message
        # The server's words are data: on one line, so that a newline in them forges no line.
        text = f"{endpoint}: {status} {one_line(code)}: {one_line(message)}"
        if self.hint:
            text += f" ({self.hint})"
        super().__init__(text)


class InvalidInput(ApiError):
    hint = "the request was refused as invalid; check the workspace values it was built from"


class Unauthorized(ApiError):
    hint = (
        "the API token is missing or invalid; set DESCRIPT_API_TOKEN or run "
        "`descript-iac config set api-key`"
    )


class PaymentRequired(ApiError):
    hint = "the account is out of credits; add credits in Descript, then apply again"


class Forbidden(ApiError):
    hint = "the token's drive has no access to this; check the token's permissions"


class NotFound(ApiError):
    hint = "it does not exist for this token's drive (jobs are visible for 30 days)"


class Conflict(ApiError):
    hint = "the request does not fit the current state of what it names"


class RateLimited(ApiError):
    hint = "too many requests; retried after Retry-After until the retry budget ran out"
    retry_after: float | None = None  # seconds the server asked to wait, when it said


class NotSupported(DescriptIacError):
    """The API behind the base URL lacks a feature (the seed-level API). Raised before sending."""

    def __init__(self, what: str, feature: str, level: str) -> None:
        self.feature = feature
        super().__init__(
            f"{what} is not supported by this API (level {level}): it needs the API's "
            f"'{feature}' feature, part of Descript's 2026 API. Nothing was sent."
        )


class BudgetExhausted(DescriptIacError):
    """A documented request budget (published projects: 1,000 an hour) is used up."""


class ServerError(ApiError):
    hint = "Descript had a server error; try again later"


class ProxyError(ServerError):
    """A gateway's error page (502/503/504 in HTML) instead of the API's reply."""

    hint = ""


class Redirected(DescriptIacError):
    """The API answered with a redirect: never followed (the token goes only to the API URL)."""

    def __init__(self, endpoint: str, described: str) -> None:
        self.endpoint = endpoint
        super().__init__(
            f"{endpoint}: the API answered {described}: descript-iac sends the token only to "
            "the API URL it was given. Check --api-url (or DESCRIPT_API_URL): a proxy, a login "
            "page or a moved API is answering there"
        )


class ThrottledTooLong(DescriptIacError):
    """This run's 429 pauses add up to more than the bound (DESCRIPT_IAC_MAX_THROTTLED)."""

    def __init__(self, endpoint: str, paused: float, bound: float) -> None:
        self.endpoint = endpoint
        super().__init__(
            f"{endpoint}: the API has asked this run to pause {paused:.0f} s in all (429 Too "
            f"Many Requests), more than the {bound:g} s allowed; stopped. Nothing is lost: "
            "run again later, or raise the bound with --max-throttled or "
            "DESCRIPT_IAC_MAX_THROTTLED"
        )


class TransportFailure(DescriptIacError):
    """The API could not be reached (after retries, for requests that are safe to repeat)."""


class OutcomeUnknown(DescriptIacError):
    """A job-creating POST may or may not have created its job.

    It is never retried blindly: the caller looks the job up in the job history using the
    fingerprint and send time, and re-issues only when it is sure nothing was created.
    """

    def __init__(self, endpoint: str, fingerprint: str, sent_at: float, reason: str) -> None:
        self.endpoint = endpoint
        self.fingerprint = fingerprint
        self.sent_at = sent_at
        self.reason = reason
        super().__init__(
            f"{endpoint}: the outcome is unknown ({reason}); the job may have been created. "
            "It will be looked up in the job history before anything is sent again."
        )


BY_STATUS: dict[int, type[ApiError]] = {
    400: InvalidInput,
    401: Unauthorized,
    402: PaymentRequired,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    429: RateLimited,
}


def error_for(endpoint: str, status: int, code: str, message: str) -> ApiError:
    cls = BY_STATUS.get(status, ServerError if status >= 500 else ApiError)
    return cls(endpoint, status, code, message)


class ReplyTooSlow(DescriptIacError):
    """A reply took longer than the request deadline in all (a server or proxy that drips)."""

    def __init__(self, endpoint: str, deadline: float) -> None:
        self.endpoint = endpoint
        self.deadline = deadline
        super().__init__(
            f"{endpoint}: no complete reply within {deadline:g} s (the request deadline; "
            "the server or a proxy sends it too slowly); it was given up. Raise it with "
            "--request-deadline or DESCRIPT_IAC_REQUEST_DEADLINE if such replies are expected"
        )


class ReplyTooLarge(DescriptIacError):
    """A reply was larger than the limit: it was not read further."""

    def __init__(self, endpoint: str, limit: int, announced: int | None = None) -> None:
        self.endpoint = endpoint
        self.limit = limit
        size = f"announced as {announced} bytes" if announced is not None else "still going"
        super().__init__(
            f"{endpoint}: the reply is larger than the {limit}-byte limit ({size}); it was not "
            "read further. The server is misbehaving; try again later, or raise the limit with "
            "DESCRIPT_IAC_MAX_REPLY_BYTES if such replies are expected"
        )


class PaginationError(DescriptIacError):
    """The job history's pages do not end: a repeated cursor, pages of jobs already seen, or
    jobs older than the API keeps. Raised instead of looping (or reading) for ever."""
