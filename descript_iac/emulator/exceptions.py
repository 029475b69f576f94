"""Errors of the emulated API, each carrying its documented code and HTTP status."""

from __future__ import annotations


class EmulatorError(Exception):
    status = 400
    code = "invalid_input"

    def __init__(self, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, str]:
        return {"error": self.code, "message": self.message}


class InvalidInput(EmulatorError):
    status, code = 400, "invalid_input"


class Unauthorized(EmulatorError):
    status, code = 401, "unauthorized"


class PaymentRequired(EmulatorError):
    status, code = 402, "payment_required"


class Forbidden(EmulatorError):
    status, code = 403, "forbidden"


class NotFound(EmulatorError):
    status, code = 404, "not_found"


class MethodNotAllowed(EmulatorError):
    status, code = 405, "method_not_allowed"


class Conflict(EmulatorError):
    status, code = 409, "conflict"


class Unprocessable(EmulatorError):
    status, code = 422, "unprocessable_entity"


class RateLimited(EmulatorError):
    status, code = 429, "rate_limit_exceeded"


class ServerError(EmulatorError):
    status, code = 500, "internal_error"


class BadGateway(EmulatorError):
    status, code = 502, "bad_gateway"


class ServiceUnavailable(EmulatorError):
    status, code = 503, "service_unavailable"


def server_error(status: int, message: str) -> EmulatorError:
    """A 500, 502 or 503 error."""
    kind = {502: BadGateway, 503: ServiceUnavailable}.get(status, ServerError)
    return kind(message)
