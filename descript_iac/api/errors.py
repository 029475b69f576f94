"""Typed API errors. Messages name the endpoint and what to do; never the token."""

from __future__ import annotations

from descript_iac.errors import DescriptIacError


class ApiError(DescriptIacError):
    """The API answered with an error body `{"error", "message"}`."""

    hint = ""

    def __init__(self, endpoint: str, status: int, code: str, message: str) -> None:
        self.endpoint = endpoint
        self.status = status
        self.code = code
        self.api_message = message
        text = f"{endpoint}: {status} {code}: {message}"
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


class RateLimited(ApiError):
    hint = "too many requests; retried after Retry-After until the retry budget ran out"


class ServerError(ApiError):
    hint = "Descript had a server error; try again later"


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
    429: RateLimited,
}


def error_for(endpoint: str, status: int, code: str, message: str) -> ApiError:
    cls = BY_STATUS.get(status, ServerError if status >= 500 else ApiError)
    return cls(endpoint, status, code, message)


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
