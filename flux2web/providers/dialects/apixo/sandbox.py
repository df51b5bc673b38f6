"""How the sandbox stands in for Apixo, at /apixo: KIE-like records under its own paths
and state names, 400s that carry their detail, two callback wordings of a failure."""

from __future__ import annotations

from flux2web.providers.catalog import OUTPUT_SIZES
from flux2web.providers.dialects.kie.sandbox import KieFamily
from flux2web.providers.sandbox.dialect import Invalid, is_url

MODES = {
    "pro-text-to-image": False,
    "flex-text-to-image": False,
    "pro-image-to-image": True,
    "flex-image-to-image": True,
}
RATIOS = ("1:1", "9:16", "16:9", "4:3", "3:4", "3:2", "2:3", "auto")


class ApixoSandbox(KieFamily):
    dialect = "apixo"
    create_path = "/api/v1/generateTask/flux-2"
    status_path = "/api/v1/statusTask/flux-2"
    message_key = "message"

    def validate(self, body: dict) -> dict:
        return validate(body)

    def error_answer(self, status: int, message: str) -> tuple[int, dict]:
        http = 503 if status == 455 else status
        if http == 400:  # Apixo's 400 carries the detail in data.error
            return 400, {"code": 400, "message": "Invalid request", "data": {"error": message}}
        return http, {"code": http, "message": message}

    def create_answer(self, task) -> dict:
        return {"code": 200, "message": "success", "data": {"taskId": task.id}}

    def state(self, task, phase: str) -> str:
        states = {"pending": "pending", "running": "processing", "success": "success"}
        return states.get(phase) or "failed"

    def record_fields(self, task) -> dict:
        return {}

    def content_failure(self, faults: set[str]) -> tuple[str, str]:
        if "sensitive_content" in faults:
            return "SensitiveContentDetected", "Sensitive content detected in the input"
        return "CONTENT_VIOLATION", "Content does not meet safety guidelines"

    def callback_body(self, task, sandbox) -> dict:
        data = self.callback_record(task, sandbox)
        # The flux-2 page says 400 / "failed", the webhooks page 200 / "success".
        if data["state"] == "failed" and not task.number % 2:
            return {"code": 400, "message": "failed", "data": data}
        return {"code": 200, "message": "success", "data": data}


def validate(body: dict) -> dict:
    request_type = body.get("request_type")
    if request_type not in ("async", "callback"):
        raise Invalid("request_type must be async or callback", status=400)
    callback = body.get("callback_url")
    if request_type == "callback" and not is_url(callback):
        raise Invalid("callback_url is required for callback mode", status=400)
    if body.get("provider", "auto") not in ("auto", "value", "official"):
        raise Invalid("provider must be auto, value or official", status=400)
    data = body.get("input")
    if not isinstance(data, dict):
        raise Invalid("input is required", status=400)
    mode = data.get("mode")
    if mode not in MODES:
        raise Invalid(f"input.mode must be one of {', '.join(MODES)}", status=400)
    prompt = data.get("prompt")
    if not isinstance(prompt, str) or not 3 <= len(prompt) <= 5000:
        raise Invalid("input.prompt must be between 3 and 5,000 characters", status=400)
    ratio = data.get("aspect_ratio")
    if ratio not in RATIOS:
        raise Invalid("input.aspect_ratio is required: " + ", ".join(RATIOS), status=400)
    resolution = data.get("resolution")
    if resolution not in ("1K", "2K"):
        raise Invalid("input.resolution is required: 1K or 2K", status=400)
    refs = data.get("image_urls") or []
    if not isinstance(refs, list) or len(refs) > 8 or not all(is_url(u) for u in refs):
        raise Invalid("input.image_urls takes up to 8 image URLs", status=400)
    if MODES[mode] and not refs:
        raise Invalid("image-to-image modes need input.image_urls", status=400)
    if ratio == "auto" and not refs:
        raise Invalid("aspect_ratio auto needs an input image", status=400)
    size = OUTPUT_SIZES[("1:1" if ratio == "auto" else ratio, resolution)]
    return {
        "model": mode,
        "prompt": prompt,
        "size": size,
        "seed": None,
        "refs": refs,
        "callback": callback if request_type == "callback" else None,
        "auto": ratio == "auto",
    }
