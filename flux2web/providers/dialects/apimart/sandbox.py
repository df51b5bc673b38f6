"""How the sandbox stands in for an APIMart-style gateway, at /apimart: its own paths,
a list of tasks in the create answer, OpenAI-style errors, no callbacks."""

from __future__ import annotations

import math
import time

from flux2web.providers.catalog import OUTPUT_SIZES, SEVEN_RATIOS
from flux2web.providers.sandbox.dialect import Invalid, SandboxDialect, is_url, spoil

STATUS_PREFIX = "/v1/tasks/"
ERROR_TYPES = {
    401: "authentication_error",
    402: "insufficient_quota",
    429: "rate_limit_error",
    404: "not_found",
}


class ApimartSandbox(SandboxDialect):
    dialect = "apimart"
    create_path = "/v1/images/generations"

    def validate(self, body: dict) -> dict:
        return validate(body)

    def status_task_id(self, rest: str, query: dict) -> str | None:
        found = rest.removeprefix(STATUS_PREFIX)
        return found if rest.startswith(STATUS_PREFIX) and found else None

    def error_answer(self, status: int, message: str) -> tuple[int, dict]:
        http = 503 if status == 455 else status
        kind = ERROR_TYPES.get(status, "invalid_request_error")
        return http, {"error": {"message": message, "type": kind, "code": str(status)}}

    def create_answer(self, task) -> dict:
        return {"code": 200, "data": [{"status": "submitted", "task_id": task.id}]}

    def content_failure(self, faults: set[str]) -> tuple[str, str]:
        return "CONTENT_VIOLATION", "Content does not meet safety guidelines"

    def status_answer(self, task, sandbox, host: str) -> dict:
        phase, fraction = task.phase(time.time())
        done_at = task.created + task.duration
        status = {
            "pending": "pending",
            "running": "processing",
            "success": "completed",
            "fail": "failed",
        }[phase]
        progress = {"success": 100, "fail": 0}.get(phase, int(fraction * 100))
        data: dict = {
            "id": task.id,
            "status": status,
            "progress": progress,
            "created": int(task.created),
            "completed": None,
            "estimated_time": round(task.duration),
            "actual_time": None,
            "error": None,
        }
        if phase == "success":
            url, expires = sandbox.file_url(host, task)
            # The docs show `url` as a string in one example and a list in another: serve both.
            data["result"] = {
                "images": [{"url": url if task.number % 2 else [url], "expires_at": expires}]
            }
            data["completed"] = math.ceil(done_at)
            data["actual_time"] = round(task.duration)
        elif phase == "fail" and "cancelled" in task.faults:
            data["status"] = "cancelled"
            data["completed"] = math.ceil(done_at)
        elif phase == "fail":
            code, message = task.failure()
            data["error"] = {"code": code, "message": message}
            data["completed"] = math.ceil(done_at)
        spoil(task, data, "completed")
        return {"code": 200, "data": data}


def validate(body: dict) -> dict:
    model = body.get("model")
    if model not in ("flux-2-pro", "flux-2-flex"):
        raise Invalid(f"model {model!r} is not supported", status=400)
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise Invalid("prompt is required", status=400)
    resolution = str(body.get("resolution", "1K")).upper()
    if resolution not in ("1K", "2K"):
        raise Invalid("resolution must be 1K or 2K", status=400)
    ratio = body.get("size", "1:1")
    if ratio not in SEVEN_RATIOS:
        raise Invalid(f"unsupported size {ratio!r}: only {', '.join(SEVEN_RATIOS)}", status=400)
    refs = body.get("image_urls") or []
    if not isinstance(refs, list) or len(refs) > 8:
        raise Invalid("image_urls takes at most 8 images", status=400)
    if any(isinstance(u, str) and u.startswith("data:") for u in refs):
        raise Invalid("image_urls must be URLs: base64 is not supported", status=400)
    if not all(is_url(u) for u in refs):
        raise Invalid("image_urls must be publicly accessible URLs", status=400)
    return {
        "model": model,
        "prompt": prompt,
        "size": OUTPUT_SIZES[(ratio, resolution)],
        "seed": None,
        "refs": refs,
        "callback": None,
        "auto": False,
    }
