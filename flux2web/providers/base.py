"""What every dialect client shares: validate before sending, then the dialect's own wire shapes."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from flux2web.providers import catalog
from flux2web.providers.transport import Response, Transport
from flux2web.providers.types import (
    Ambiguous,
    AuthError,
    ContentPolicy,
    ErrorClass,
    GenerationFailed,
    GenerationRequest,
    InsufficientCredits,
    KeyCapReached,
    Maintenance,
    NotFound,
    ProviderError,
    ProviderFailure,
    RateLimited,
    ResultImage,
    Submission,
    TaskStatus,
    Unreadable,
    ValidationFailed,
)

# What a parser may raise on a body of the wrong shape; turned into Unreadable.
SHAPE_ERRORS = (ArithmeticError, ValueError, TypeError, LookupError, AttributeError, RecursionError)
# The last second datetime can hold; a "time" past it is nonsense, not an error.
LATEST_SECONDS = 253_402_300_799

# A task id no provider issues: reading it is a free, authenticated "is this key good?".
KEY_CHECK_TASK_ID = "flux2web-key-check"

# Words by which providers that give no failure code say "refused for safety reasons".
CONTENT_POLICY_WORDS = re.compile(
    r"content[_ ]?(violation|policy|moderation)|nsfw|unsafe|safety|sensitive|prohibited",
    re.IGNORECASE,
)

# The numeric codes the KIE family puts in the body (and most gateways reuse as HTTP status).
CODE_CLASSES: dict[int, type[ProviderError]] = {
    400: ValidationFailed,
    401: AuthError,
    402: InsufficientCredits,
    403: AuthError,
    404: NotFound,
    413: ValidationFailed,
    422: ValidationFailed,
    429: RateLimited,
    433: KeyCapReached,
    455: Maintenance,
    500: ProviderFailure,
    501: GenerationFailed,
    502: ProviderFailure,
    503: Maintenance,
    504: ProviderFailure,
    505: ProviderFailure,
}


class InvalidRequest(ValidationFailed):
    """Refused here, before anything was sent: carries every problem, each naming its field."""

    def __init__(self, problems: list[catalog.Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


class CallbacksNotSupported(ProviderError):
    error_class = ErrorClass.VALIDATION


def error_from_code(
    code: int | None,
    message: str,
    *,
    http_status: int | None = None,
    retry_after: float | None = None,
    raw: Any = None,
) -> ProviderError:
    cls = CODE_CLASSES.get(code or 0)
    if cls is None:
        cls = ProviderFailure if (code or 0) >= 500 else ValidationFailed
    if cls is GenerationFailed and CONTENT_POLICY_WORDS.search(message or ""):
        cls = ContentPolicy
    return cls(
        message or f"The provider answered with code {code}.",
        http_status=http_status,
        code=str(code) if code is not None else "",
        retry_after=retry_after,
        raw=raw,
    )


def failure_class(fail_code: str, message: str) -> ErrorClass:
    """A failed task's reason: the account ran dry, the provider's safety refusal, or a
    plain generation failure."""
    if str(fail_code or "").upper() == "INSUFFICIENT_CREDITS":
        return ErrorClass.CREDITS
    if CONTENT_POLICY_WORDS.search(fail_code or "") or CONTENT_POLICY_WORDS.search(message or ""):
        return ErrorClass.CONTENT_POLICY
    return ErrorClass.GENERATION_FAILED


def result_urls_from_json(value: Any) -> list[str]:
    """`resultJson` is a JSON string holding {"resultUrls": [...]}; tolerate a dict too.
    Raises ValueError when it is nested too deeply to read at all."""
    if not value:
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value, parse_constant=_no_constant)
        except RecursionError:
            raise ValueError("resultJson is nested too deeply") from None
        except json.JSONDecodeError:
            return []
    urls = value.get("resultUrls") if isinstance(value, Mapping) else None
    return [u for u in urls or [] if isinstance(u, str) and u]


def from_millis(value: Any) -> datetime | None:
    return from_seconds(value / 1000) if _is_number(value) else None


def from_seconds(value: Any) -> datetime | None:
    """A Unix time, or None for anything that is not one (1e20, Infinity, NaN, text):
    a provider's nonsense time is ignored, never a reason to fail the answer."""
    if not _is_number(value) or not 0 < value <= LATEST_SECONDS:
        return None
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def valid_time(value: Any, *, millis: bool) -> bool:
    """For bodies we may refuse (callbacks): absent, or a time we could use."""
    if value is None or value == "":
        return True
    return (from_millis(value) if millis else from_seconds(value)) is not None


def percent(value: Any) -> int | None:
    """A provider's progress as 0-100, or None. APIMart sends 0-100; KIE's record sometimes
    carries one, as a number or a string, and a fraction like "0.45" is read as 45 %."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):  # nonsense is ignored, never fatal
        return None
    if not math.isfinite(number):
        return None
    if 0 < number < 1 or (isinstance(value, str) and "." in value and number <= 1):
        number *= 100
    return max(0, min(100, int(number)))


# Beyond this a vendor's reported time (a day) or cost is nonsense, not a figure.
REPORTED_MAX = 86_400


def reported(value: Any, *, scale: float = 1) -> Decimal | None:
    """A figure a vendor reports of a task (its time, its credits), as a number or a
    numeric string, divided by `scale`; None for anything else (negative, huge, text):
    a report we cannot read is left out, never a reason to fail the answer."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value).strip()) / Decimal(str(scale))
    except (ArithmeticError, ValueError):
        return None
    if not number.is_finite() or not 0 <= number <= REPORTED_MAX:
        return None
    return number


# A proxy in front of the vendor lost the vendor's answer (502; Cloudflare's 520) or
# stopped waiting for it (504; Cloudflare's 524). 503 and 521-523 say the request never
# reached the vendor, and are refused like any outage.
GATEWAY_LOST = (502, 504, 520, 524)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _no_constant(name: str):
    # JSON has no Infinity or NaN; Python's parser accepts them unless told otherwise.
    raise ValueError(f"{name} is not a JSON number")


def missing_task_id(response: Response, where: str) -> Ambiguous:
    """An answer that says success but names no task: it may exist, so never resend."""
    return Ambiguous(
        f"The provider said the task was accepted but gave no task id ({where} is empty); "
        "it may have accepted and charged it.",
        http_status=response.status,
        raw=response.body,
    )


def json_body(response: Response) -> dict:
    if isinstance(response.body, dict):
        return response.body
    if 200 <= response.status < 300:
        # A success that says nothing we can read: retrying in place will not change it.
        raise Unreadable(
            f"HTTP {response.status} without a JSON object", http_status=response.status
        )
    raise ProviderFailure(
        f"The provider answered HTTP {response.status} without a JSON object.",
        http_status=response.status,
        raw=response.text,
    )


def parse_json_bytes(body: bytes | str | Mapping) -> dict:
    if isinstance(body, Mapping):
        return dict(body)
    try:
        data = json.loads(body, parse_constant=_no_constant)
    except RecursionError:
        raise ValidationFailed("The callback body is nested too deeply.") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValidationFailed("The callback body is not JSON.") from None
    except ValueError:
        raise ValidationFailed(
            "The callback body holds Infinity or NaN, not JSON numbers."
        ) from None
    if not isinstance(data, dict):
        raise ValidationFailed("The callback body is not a JSON object.")
    return data


class DialectClient:
    """One provider credential's client. Subclasses speak one dialect's wire format."""

    dialect = ""

    def __init__(self, transport: Transport, *, name: str = "", hmac_key: str = ""):
        self.transport = transport
        self.name = name
        self.hmac_key = hmac_key
        if transport is not None:  # parsing callbacks needs no transport
            transport.hide(hmac_key)

    def __repr__(self):
        return f"<{type(self).__name__} {self.name or self.dialect}>"

    def close(self):
        self.transport.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def capabilities(self, request: GenerationRequest) -> catalog.Capabilities:
        caps = catalog.capabilities(self.dialect, request.model)
        if caps is None:
            raise InvalidRequest(catalog.validate(self.dialect, request, provider=self.name))
        return caps

    def create(self, request: GenerationRequest) -> Submission:
        """Validate locally, then send the create exactly once."""
        try:
            return self._create(request)
        except ProviderError as exc:
            self.transport.clean(exc)
            raise

    def _create(self, request: GenerationRequest) -> Submission:
        problems = catalog.validate(self.dialect, request, provider=self.name)
        if problems:
            raise InvalidRequest(problems)
        caps = self.capabilities(request)
        response = self.transport.create(self.create_path(), self.build_payload(request, caps))
        if 200 <= response.status < 300 and not isinstance(response.body, dict):
            # A success status with a body we cannot read: the task may well exist.
            raise Ambiguous(
                f"The provider answered HTTP {response.status} with a body that is not JSON; "
                "it may have accepted the task.",
                http_status=response.status,
                raw=response.text,
            )
        if response.status in GATEWAY_LOST and not isinstance(response.body, dict):
            # A proxy's own page, not the vendor's answer: the create may have reached the
            # vendor and been accepted (and charged) before the proxy gave up on it.
            raise Ambiguous(
                f"A gateway answered HTTP {response.status} instead of the provider; "
                "the provider may have accepted the task.",
                http_status=response.status,
                raw=response.text,
            )
        return self.parse_create(response)

    def status(self, task_id: str) -> TaskStatus:
        def parse(response: Response) -> TaskStatus:
            try:
                return self.parse_status(response, task_id)
            except SHAPE_ERRORS as exc:
                raise Unreadable(_shape_problem(exc), http_status=response.status) from None

        status = self.transport.read(
            self.status_path(task_id), parse, params=self.status_params(task_id)
        )
        if status.message:  # a failed task's reason is the provider's words too
            status = dataclasses.replace(status, message=self.transport.scrub(status.message))
        return status

    def check_key(self) -> None:
        """One free authenticated call. Raises AuthError or Unreachable; otherwise the key works."""
        with contextlib.suppress(NotFound, ValidationFailed):
            self.status(KEY_CHECK_TASK_ID)

    def parse_callback(self, body: bytes | str | Mapping, headers: Mapping[str, str]) -> TaskStatus:
        raise CallbacksNotSupported(f"{self.name or self.dialect} sends no callbacks.")

    def callback_task_id(self, body: bytes | str | Mapping) -> str:
        payload = parse_json_bytes(body)
        data = payload.get("data")
        task_id = None
        if isinstance(data, dict):
            # KIE's body says taskId; one of its own examples reads task_id. Accept either.
            task_id = data.get("taskId") or data.get("task_id")
        # KIE's signing example also names it at the top level.
        task_id = task_id or payload.get("taskId")
        if not task_id or not isinstance(task_id, str | int) or isinstance(task_id, bool):
            raise ValidationFailed(
                "The callback names no task (data.taskId, data.task_id or taskId)."
            )
        return str(task_id)

    # The wire format, per dialect.
    def create_path(self) -> str:
        raise NotImplementedError

    def build_payload(self, request: GenerationRequest, caps: catalog.Capabilities) -> dict:
        raise NotImplementedError

    def parse_create(self, response: Response) -> Submission:
        raise NotImplementedError

    def status_path(self, task_id: str) -> str:
        raise NotImplementedError

    def status_params(self, task_id: str) -> dict | None:
        return None

    def parse_status(self, response: Response, task_id: str) -> TaskStatus:
        raise NotImplementedError


def _shape_problem(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def images(urls: list[str], expires_at: datetime | None = None) -> tuple[ResultImage, ...]:
    return tuple(ResultImage(url=u, expires_at=expires_at) for u in urls)


__all__ = [
    "DialectClient",
    "InvalidRequest",
    "TaskStatus",
    "error_from_code",
    "failure_class",
    "images",
    "result_urls_from_json",
]
