"""The `apimart` dialect's client: APIMart-style gateways (/v1/images/generations)."""

from __future__ import annotations

from urllib.parse import quote

from flux2web.providers import catalog
from flux2web.providers.base import (
    DialectClient,
    error_from_code,
    failure_class,
    from_seconds,
    json_body,
    missing_task_id,
    percent,
    reported,
)
from flux2web.providers.transport import Response
from flux2web.providers.types import (
    ErrorClass,
    GenerationRequest,
    NotFound,
    ProviderError,
    ResultImage,
    Submission,
    TaskState,
    TaskStatus,
)

STATES = {
    "pending": TaskState.QUEUED,
    "submitted": TaskState.QUEUED,
    "processing": TaskState.RUNNING,
    "completed": TaskState.SUCCEEDED,
    "failed": TaskState.FAILED,
    "cancelled": TaskState.CANCELLED,
}


def _message(value) -> tuple[str, str]:
    """(code, message) from an `error` that may be a string or an object."""
    if isinstance(value, dict):
        code = value.get("code") or value.get("type") or ""
        return str(code), str(value.get("message") or "")
    return "", str(value or "")


class ApimartClient(DialectClient):
    dialect = "apimart"

    def create_path(self) -> str:
        return "/v1/images/generations"

    def status_path(self, task_id: str) -> str:
        return f"/v1/tasks/{quote(task_id, safe='')}"

    def build_payload(self, request: GenerationRequest, caps: catalog.Capabilities) -> dict:
        payload = {
            "model": caps.wire_model(request),
            "prompt": request.prompt.strip(),
            "resolution": (request.resolution or caps.resolutions[0]).upper(),
            "size": request.aspect_ratio or caps.default_ratio,
        }
        if request.reference_urls:
            payload["image_urls"] = list(request.reference_urls)
        # No callback is documented: the job is polled, whatever callback_url says.
        return payload

    def error(self, response: Response, body: dict) -> ProviderError:
        code, message = _message(body.get("error"))
        if not message:
            message = str(body.get("message") or body.get("msg") or "")
        number = body.get("code") if isinstance(body.get("code"), int) else response.status
        error = error_from_code(
            number, message, http_status=response.status, retry_after=response.retry_after, raw=body
        )
        error.code = code or error.code
        return error

    def parse_create(self, response: Response) -> Submission:
        body = json_body(response)
        if response.status != 200 or body.get("code", 200) != 200:
            raise self.error(response, body)
        data = body.get("data")
        # A list of tasks, even for one; take a single object too.
        first = data[0] if isinstance(data, list) and data else data
        task_id = first.get("task_id") or first.get("id") if isinstance(first, dict) else None
        if not task_id:
            raise missing_task_id(response, "data[0].task_id")
        return Submission(task_id=str(task_id), raw=body)

    def parse_status(self, response: Response, task_id: str) -> TaskStatus:
        body = json_body(response)
        if response.status != 200 or body.get("code", 200) != 200:
            raise self.error(response, body)
        data = body.get("data")
        if not isinstance(data, dict):
            raise NotFound(f"The provider has no record of task {task_id}.", raw=body)
        provider_state = str(data.get("status") or "")
        state = STATES.get(provider_state.lower(), TaskState.RUNNING)
        progress = percent(data.get("progress"))
        finished = from_seconds(data.get("completed"))
        common = {
            "task_id": str(data.get("id") or task_id),
            "provider_state": provider_state,
            "raw": body,
        }
        # Its own time for the task, in seconds, once done (estimated_time is a guess).
        seconds = reported(data.get("actual_time"))
        common["reported_seconds"] = None if seconds is None else float(seconds)
        if state in (TaskState.FAILED, TaskState.CANCELLED):
            code, message = _message(data.get("error"))
            message = message or (
                "The task was cancelled." if state is TaskState.CANCELLED else "Generation failed."
            )
            return TaskStatus(
                state=state,
                progress=progress,
                code=code,
                message=message,
                error_class=None if state is TaskState.CANCELLED else failure_class(code, message),
                finished_at=finished,
                **common,
            )
        results = self._results(data.get("result"))
        if state is TaskState.SUCCEEDED and not results:
            return TaskStatus(
                state=TaskState.FAILED,
                message="The provider reported success without any result URL.",
                error_class=ErrorClass.GENERATION_FAILED,
                finished_at=finished,
                **common,
            )
        return TaskStatus(
            state=state,
            progress=100 if state is TaskState.SUCCEEDED else progress,
            results=results,
            finished_at=finished if state.is_final else None,
            **common,
        )

    @staticmethod
    def _results(result) -> tuple[ResultImage, ...]:
        found = []
        entries = result.get("images") if isinstance(result, dict) else None
        for entry in entries or []:
            if not isinstance(entry, dict):
                continue
            expires = from_seconds(entry.get("expires_at"))
            # `url` is a string in some of APIMart's examples and a list in others.
            urls = entry.get("url")
            for url in [urls] if isinstance(urls, str) else urls or []:
                if isinstance(url, str) and url:
                    found.append(ResultImage(url=url, expires_at=expires))
        return tuple(found)
