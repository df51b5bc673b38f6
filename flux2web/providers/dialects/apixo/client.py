"""The `apixo` dialect's client: Apixo's generateTask/statusTask API for FLUX.2."""

from __future__ import annotations

import re
from collections.abc import Mapping

from flux2web.providers import catalog
from flux2web.providers.base import error_from_code, parse_json_bytes
from flux2web.providers.dialects.kie.client import KieClient
from flux2web.providers.transport import Response
from flux2web.providers.types import (
    ContentPolicy,
    GenerationRequest,
    ProviderError,
    TaskState,
    TaskStatus,
)

# How Apixo's 403 says the content was refused, as against the key lacking permission.
CONTENT_REFUSAL = re.compile(
    r"content|violat|polic|sensitive|nsfw|unsafe|moderation|prohibited", re.IGNORECASE
)

STATES = {
    "pending": TaskState.QUEUED,
    "processing": TaskState.RUNNING,
    "success": TaskState.SUCCEEDED,
    "failed": TaskState.FAILED,
}


class ApixoClient(KieClient):
    """Apixo's bodies share KIE's data fields (taskId, state, resultJson, failCode) but not
    its paths, state names or request shape; only those are overridden here."""

    dialect = "apixo"
    states = STATES

    def create_path(self) -> str:
        return "/api/v1/generateTask/flux-2"

    def status_path(self, task_id: str) -> str:
        return "/api/v1/statusTask/flux-2"

    def build_payload(self, request: GenerationRequest, caps: catalog.Capabilities) -> dict:
        data = {
            "mode": caps.wire_model(request),
            "prompt": request.prompt.strip(),
            "aspect_ratio": request.aspect_ratio or caps.default_ratio,
            "resolution": (request.resolution or caps.resolutions[0]).upper(),
        }
        if request.reference_urls:
            data["image_urls"] = list(request.reference_urls)
        payload: dict = {"request_type": "async", "input": data}
        if route := request.options.get("route"):
            payload["provider"] = route
        if request.callback_url:
            payload["request_type"] = "callback"
            payload["callback_url"] = request.callback_url
        return payload

    def error(self, response: Response, body: dict) -> ProviderError:
        code = body.get("code") if isinstance(body.get("code"), int) else response.status
        message = str(body.get("message") or body.get("msg") or "")
        data = body.get("data")
        detail = data.get("error") if isinstance(data, dict) else None
        if isinstance(detail, str) and detail.strip() and detail.strip() not in message:
            # "Invalid request" alone tells nobody what to change; the detail does.
            message = f"{message}: {detail.strip()}" if message else detail.strip()
        if code == 403 and CONTENT_REFUSAL.search(message):
            # The errors page's 403 is "Content violates policy": the request's fault,
            # not the key's. Only "lacks permission" and the like count against the key.
            return ContentPolicy(message, http_status=response.status, code="403", raw=body)
        return error_from_code(
            code, message, http_status=response.status, retry_after=response.retry_after, raw=body
        )

    def parse_callback(self, body, headers: Mapping[str, str]) -> TaskStatus:
        # A failure arrives with code 400 and message "failed": that is the task's outcome,
        # not a refused request, so only `data` is read.
        payload = parse_json_bytes(body)
        task_id = self.callback_task_id(payload)
        return self.callback_status(payload, task_id)
