"""The `kie` dialect's client: KIE.ai's market API and its clones (Apikley and others)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping

from flux2web.providers import catalog
from flux2web.providers.base import (
    SHAPE_ERRORS,
    DialectClient,
    error_from_code,
    failure_class,
    from_millis,
    images,
    json_body,
    missing_task_id,
    parse_json_bytes,
    percent,
    reported,
    result_urls_from_json,
    valid_time,
)
from flux2web.providers.transport import Response
from flux2web.providers.types import (
    ErrorClass,
    GenerationRequest,
    NotFound,
    ProviderError,
    Submission,
    TaskState,
    TaskStatus,
    TaskUnknown,
    ValidationFailed,
)

STATES = {
    "waiting": TaskState.QUEUED,
    "queuing": TaskState.QUEUED,
    "generating": TaskState.RUNNING,
    "success": TaskState.SUCCEEDED,
    "fail": TaskState.FAILED,
}
SIGNATURE_MAX_AGE = 5 * 60


class BadSignature(ProviderError):
    error_class = ErrorClass.AUTH


def sign(key: str, task_id: str, timestamp: str) -> str:
    """KIE's webhook signature: base64(HMAC-SHA256(key, taskId + "." + timestamp))."""
    digest = hmac.new(key.encode(), f"{task_id}.{timestamp}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify_signature(
    *, key: str, task_id: str, headers: Mapping[str, str], now: float | None = None
) -> None:
    """Raise BadSignature unless the headers carry a fresh, matching signature."""
    timestamp = _header(headers, "X-Webhook-Timestamp")
    signature = _header(headers, "X-Webhook-Signature")
    if not timestamp or not signature:
        raise BadSignature("The callback is not signed (X-Webhook-Timestamp/-Signature missing).")
    try:
        seconds = int(timestamp)
    except ValueError:
        raise BadSignature("The callback's X-Webhook-Timestamp is not a number.") from None
    age = (time.time() if now is None else now) - seconds
    # Stale or from the future alike: a replayed or forged body must not get in.
    if abs(age) > SIGNATURE_MAX_AGE:
        raise BadSignature("The callback's timestamp is more than 5 minutes off.")
    expected = sign(key, task_id, timestamp).encode()
    if not hmac.compare_digest(expected, signature.strip().encode()):
        raise BadSignature("The callback's signature does not match.")


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return (value or "").strip()


class KieClient(DialectClient):
    dialect = "kie"
    states = STATES

    def create_path(self) -> str:
        return "/api/v1/jobs/createTask"

    def status_path(self, task_id: str) -> str:
        return "/api/v1/jobs/recordInfo"

    def status_params(self, task_id: str) -> dict:
        return {"taskId": task_id}

    def build_payload(self, request: GenerationRequest, caps: catalog.Capabilities) -> dict:
        payload = {"model": caps.wire_model(request), "input": self.input_fields(request, caps)}
        if request.callback_url:
            payload["callBackUrl"] = request.callback_url
        return payload

    def input_fields(self, request: GenerationRequest, caps: catalog.Capabilities) -> dict:
        # Apikley marks all three as required inside `input`: always send them.
        data = {
            "prompt": request.prompt.strip(),
            "aspect_ratio": request.aspect_ratio or caps.default_ratio,
            "resolution": (request.resolution or caps.resolutions[0]).upper(),
        }
        if request.reference_urls:
            data["input_urls"] = list(request.reference_urls)
        if request.options.get("nsfw_checker"):
            data["nsfw_checker"] = True
        return data

    def error(self, response: Response, body: dict) -> ProviderError:
        """The business `code` speaks even inside an HTTP 200; the HTTP status otherwise."""
        code = body.get("code")
        if not isinstance(code, int):
            code = response.status
        message = body.get("msg") or body.get("message") or ""
        return error_from_code(
            code,
            str(message),
            http_status=response.status,
            retry_after=response.retry_after,
            raw=body,
        )

    def forgot_task(self, body: dict) -> bool:
        """KIE answers `{"code": 422, "msg": "recordInfo is null"}` (HTTP 200) about a task
        it does not know: a 422 that is about the task, not about our request."""
        message = str(body.get("msg") or body.get("message") or "")
        return body.get("code") == 422 and "recordinfo is null" in message.lower()

    def is_ok(self, response: Response, body: dict) -> bool:
        code = body.get("code")
        return code == 200 or (code is None and response.status == 200)

    def parse_create(self, response: Response) -> Submission:
        body = json_body(response)
        if not self.is_ok(response, body):
            raise self.error(response, body)
        data = body.get("data")
        task_id = data.get("taskId") if isinstance(data, dict) else None
        if not task_id:
            raise missing_task_id(response, "data.taskId")
        return Submission(task_id=str(task_id), raw=body)

    def parse_status(self, response: Response, task_id: str) -> TaskStatus:
        body = json_body(response)
        if self.forgot_task(body):
            raise TaskUnknown(
                f"{self.name or 'The provider'} has no record of task {task_id} "
                "(recordInfo is null).",
                http_status=response.status,
                code="422",
                raw=body,
            )
        if not self.is_ok(response, body):
            raise self.error(response, body)
        data = body.get("data")
        if not isinstance(data, dict):
            raise NotFound(f"The provider has no record of task {task_id}.", raw=body)
        return self.status_from_data(data, raw=body, task_id=task_id)

    def status_from_data(self, data: dict, *, raw: dict, task_id: str = "") -> TaskStatus:
        provider_state = str(data.get("state") or "")
        # An unknown state is treated as still running: polling goes on until give-up.
        state = self.states.get(provider_state.lower(), TaskState.RUNNING)
        urls = result_urls_from_json(data.get("resultJson"))
        task_id = str(data.get("taskId") or data.get("task_id") or task_id)
        finished = from_millis(data.get("completeTime"))
        # Its own figures: costTime in ms; creditsConsumed in records, consumeCredits in
        # callbacks (providers.md).
        seconds = reported(data.get("costTime"), scale=1000)
        credits = reported(data.get("creditsConsumed", data.get("consumeCredits")))
        said = {
            "reported_seconds": None if seconds is None else float(seconds),
            "reported_credits": credits,
        }
        if state is TaskState.SUCCEEDED and not urls:
            return TaskStatus(
                task_id=task_id,
                state=TaskState.FAILED,
                provider_state=provider_state,
                message="The provider reported success without any result URL.",
                error_class=ErrorClass.GENERATION_FAILED,
                finished_at=finished,
                raw=raw,
                **said,
            )
        if state is TaskState.FAILED:
            code = str(data.get("failCode") or "")
            message = str(data.get("failMsg") or "The provider could not generate the image.")
            return TaskStatus(
                task_id=task_id,
                state=state,
                provider_state=provider_state,
                code=code,
                message=message,
                error_class=failure_class(code, message),
                finished_at=finished,
                raw=raw,
                **said,
            )
        return TaskStatus(
            task_id=task_id,
            state=state,
            progress=100 if state is TaskState.SUCCEEDED else percent(data.get("progress")),
            results=images(urls),
            provider_state=provider_state,
            finished_at=finished if state.is_final else None,
            raw=raw,
            **said,
        )

    def parse_callback(self, body, headers: Mapping[str, str]) -> TaskStatus:
        payload = parse_json_bytes(body)
        task_id = self.callback_task_id(payload)
        if self.hmac_key:
            verify_signature(key=self.hmac_key, task_id=task_id, headers=headers)
        return self.callback_status(payload, task_id)

    def callback_status(self, payload: dict, task_id: str) -> TaskStatus:
        """A callback is a hint from anyone who knows the URL: what we cannot read in it
        is refused (400) rather than ignored, and nothing is written for it."""
        data = payload.get("data")
        if not isinstance(data, dict):
            raise ValidationFailed("The callback has no data object.")
        for name in ("createTime", "completeTime", "updateTime"):
            if not valid_time(data.get(name), millis=True):
                raise ValidationFailed(f"The callback's data.{name} is not a time.")
        try:
            urls = result_urls_from_json(data.get("resultJson"))
            status = self.status_from_data(data, raw=payload, task_id=task_id)
        except SHAPE_ERRORS:
            raise ValidationFailed("The callback's data could not be read.") from None
        said_success = self.states.get(str(data.get("state") or "").lower())
        if said_success is TaskState.SUCCEEDED and not urls:
            raise ValidationFailed("The callback says success but its resultJson has no URL.")
        return status
