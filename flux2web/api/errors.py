"""The API's errors, in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`,
with the status codes and types OpenAI uses, so its SDKs raise the class a caller expects
(401 AuthenticationError, 404 NotFoundError, 429 RateLimitError...). Every /v1/ answer that
is not a success is made here."""

from __future__ import annotations

from django.http import JsonResponse

# OpenAI's `type` for each status; a caller may name another (429 is "insufficient_quota"
# when the money runs out, "requests" when a rate limit is hit).
TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "invalid_request_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    409: "invalid_request_error",
    413: "invalid_request_error",
    429: "requests",
    500: "server_error",
    502: "server_error",
    503: "server_error",
    504: "server_error",
}


# What a client may simply send again: nothing was made. Every other error says
# `x-should-retry: false`, which OpenAI's SDKs obey: their automatic retries of a 409, a
# 5xx or a 504 would otherwise ask (and pay) for the images again.
RETRYABLE = {"rate_limit_exceeded", "server_busy"}


class ApiError(Exception):
    """Raised anywhere under a /v1/ view; `endpoint` turns it into the answer."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str | None = None,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status, self.message = status, message
        self.type = type or TYPES.get(status, "invalid_request_error")
        self.param, self.code, self.headers = param, code, headers or {}

    def response(self) -> JsonResponse:
        body = {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }
        response = JsonResponse(body, status=self.status)
        response["x-should-retry"] = "true" if self.code in RETRYABLE else "false"
        for name, value in self.headers.items():
            response[name] = value
        return response


def no_key() -> ApiError:
    return ApiError(
        401,
        "You didn't provide an API key. Send it in an Authorization header using Bearer auth "
        "(Authorization: Bearer YOUR_KEY). Make one on the API tokens page of your account.",
        headers={"WWW-Authenticate": "Bearer"},
    )


def bad_key() -> ApiError:
    # Nothing of what was sent is repeated: the message is the same for every dead token.
    return ApiError(
        401,
        "Incorrect API key provided: it is unknown, expired or revoked, or its owner can no "
        "longer sign in. Make a new one on the API tokens page of your account.",
        code="invalid_api_key",
        headers={"WWW-Authenticate": "Bearer"},
    )


def invalid_url(request) -> ApiError:
    return ApiError(404, f"Invalid URL ({request.method} {request.path})")


def wrong_method(request, allowed: tuple[str, ...]) -> ApiError:
    return ApiError(
        405,
        f"{request.method} is not allowed on {request.path}; use {', '.join(allowed)}.",
        headers={"Allow": ", ".join(allowed)},
    )


def unreadable() -> ApiError:
    return ApiError(
        400,
        "The request body could not be read: send JSON, or multipart/form-data as OpenAI's "
        "SDK does (at most 100 files and 1000 fields).",
    )


def too_big() -> ApiError:
    return ApiError(413, "The request body is too large.")


def server_error() -> ApiError:
    return ApiError(500, "The server had an error while processing your request.")
