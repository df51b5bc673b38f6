"""The sandbox's wire shapes: what each dialect accepts, and how it answers and calls back."""

from __future__ import annotations

import json
import math
import re
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flux2web.providers.catalog import LIANGXIN_RATIO_SIZES, OUTPUT_SIZES, SEVEN_RATIOS

if TYPE_CHECKING:
    from flux2web.providers.sandbox.server import Sandbox, Task

DIALECT_MOUNTS = ("kie", "apikley", "liangxin", "apixo", "apimart")
DEFAULT_API_KEY = "sandbox-key"
FAULT_TAG = re.compile(r"\[sandbox:([a-z0-9_]+)(?:=([0-9.]+))?\]", re.IGNORECASE)
CREATE_FAULTS = {
    "429",
    "455",
    "402",
    "500",
    "401",
    "401_echo",
    "slow",
    "drop",
    "lost",
    "433",
    "400",
    "403_content",
    "403_key",
    "505",
    "413",
    "422",
}
TASK_FAULTS = {
    "content_violation",
    "sensitive_content",
    "fail",
    "never",
    "no_callback",
    "insufficient_credits",
    "cancelled",
}
# KIE's documented create limit: 20 new tasks per 10 s per account, the rest refused (429).
KIE_CREATE_LIMIT = (20, 10.0)
KIE_MOUNTS = ("kie", "apikley")
# KIE's reference images: JPEG, PNG or WEBP, at most 10 MB each.
KIE_REF_FORMATS = ("JPEG", "PNG", "WEBP")
KIE_REF_MAX_BYTES = 10 * 1024 * 1024
# What KIE answers about a task it does not know (its Get Task Details page; also live).
RECORD_INFO_NULL = {"code": 422, "msg": "recordInfo is null", "data": None}
# Status answers a careless provider might give: times out of range or not numbers at all,
# `resultJson` nested past any parser's depth, a whole body nested so, or no JSON at all.
ANSWER_FAULTS = {"bad_time", "inf_time", "deep_result", "deep_body", "not_json"}
DEEP = 60_000
KIE_MODELS = {
    "flux-2/pro-text-to-image": False,
    "flux-2/flex-text-to-image": False,
    "flux-2/pro-image-to-image": True,
    "flux-2/flex-image-to-image": True,
}
APIXO_MODES = {
    "pro-text-to-image": False,
    "flex-text-to-image": False,
    "pro-image-to-image": True,
    "flex-image-to-image": True,
}
KIE_RATIOS = (*SEVEN_RATIOS, "auto")
APIXO_RATIOS = ("1:1", "9:16", "16:9", "4:3", "3:4", "3:2", "2:3", "auto")
LIANGXIN_RATIOS = tuple(LIANGXIN_RATIO_SIZES)


class Invalid(Exception):
    """A request the vendor would refuse; `status` is the HTTP status the dialect uses."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.message = message
        self.status = status


# ---- Dialect request validation: as the vendors document it. -------------------------


def _is_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def validate_kie(body: dict, *, strict: bool) -> dict:
    model = body.get("model")
    if model not in KIE_MODELS:
        raise Invalid(f"model {model!r} is not supported")
    data = body.get("input")
    if not isinstance(data, dict):
        raise Invalid("input is required")
    if strict:
        for name in ("prompt", "aspect_ratio", "resolution"):
            if name not in data:
                raise Invalid(f"input.{name} is required")
    prompt = data.get("prompt")
    if not isinstance(prompt, str) or not 3 <= len(prompt) <= 5000:
        raise Invalid("input.prompt must be between 3 and 5000 characters")
    ratio = data.get("aspect_ratio", "1:1")
    if ratio not in KIE_RATIOS:
        raise Invalid(f"input.aspect_ratio must be one of {', '.join(KIE_RATIOS)}")
    resolution = data.get("resolution", "1K")
    if resolution not in ("1K", "2K"):
        raise Invalid("input.resolution must be 1K or 2K")
    refs = data.get("input_urls") or []
    if KIE_MODELS[model]:
        if not isinstance(refs, list) or not 1 <= len(refs) <= 8:
            raise Invalid("input.input_urls must hold 1 to 8 image URLs")
        if not all(_is_url(u) for u in refs):
            raise Invalid("input.input_urls must be public image URLs")
    elif refs:
        raise Invalid("input.input_urls is only for image-to-image models")
    if ratio == "auto" and not refs:
        raise Invalid("input.aspect_ratio auto needs an input image")
    callback = body.get("callBackUrl")
    if callback is not None and not _is_url(callback):
        raise Invalid("callBackUrl must be a URL")
    if "nsfw_checker" in data and not isinstance(data["nsfw_checker"], bool):
        raise Invalid("input.nsfw_checker must be a boolean")
    size = OUTPUT_SIZES[("1:1" if ratio == "auto" else ratio, resolution)]
    return {
        "model": model,
        "prompt": prompt,
        "size": size,
        "seed": None,
        "refs": refs,
        "callback": callback,
        "auto": ratio == "auto",
    }


def validate_liangxin(body: dict) -> dict:
    if body.get("model") != "flux-2-pro":
        raise Invalid("unsupported model", status=400)
    data = body.get("input")
    if not isinstance(data, dict) or not isinstance(data.get("prompt"), str) or not data["prompt"]:
        raise Invalid("input.prompt is required", status=400)
    has_w, has_h = "width" in data, "height" in data
    if has_w != has_h:
        raise Invalid("input.width and input.height must be provided together", status=400)
    if has_w:
        for name in ("width", "height"):
            value = data[name]
            if not isinstance(value, int) or isinstance(value, bool) or not 256 <= value <= 1440:
                raise Invalid(f"input.{name} must be an integer from 256 to 1440", status=400)
        size = (data["width"], data["height"])
    elif "aspect_ratio" in data:
        if data["aspect_ratio"] not in LIANGXIN_RATIOS:
            raise Invalid("input.aspect_ratio is not supported", status=400)
        size = LIANGXIN_RATIO_SIZES[data["aspect_ratio"]]
    else:
        size = (1024, 768)
    refs = [
        data[k]
        for k in ("input_image", "input_image_2", "input_image_3", "input_image_4")
        if k in data
    ]
    listed = data.get("reference_images") or []
    if not isinstance(listed, list):
        raise Invalid("input.reference_images must be a list", status=400)
    refs += listed
    if len(refs) > 4:
        raise Invalid("at most 4 reference images in total", status=400)
    if not all(_is_url(u) for u in refs):
        raise Invalid("reference images must be URLs", status=400)
    seed = data.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise Invalid("input.seed must be an integer", status=400)
    if "prompt_upsampling" in data and not isinstance(data["prompt_upsampling"], bool):
        raise Invalid("input.prompt_upsampling must be a boolean", status=400)
    callback = body.get("callBackUrl")
    if callback is not None and not _is_url(callback):
        raise Invalid("callBackUrl must be a URL", status=400)
    return {
        "model": "flux-2-pro",
        "prompt": data["prompt"],
        "size": size,
        "seed": seed,
        "refs": refs,
        "callback": callback,
        "auto": False,
    }


def validate_apixo(body: dict) -> dict:
    request_type = body.get("request_type")
    if request_type not in ("async", "callback"):
        raise Invalid("request_type must be async or callback", status=400)
    callback = body.get("callback_url")
    if request_type == "callback" and not _is_url(callback):
        raise Invalid("callback_url is required for callback mode", status=400)
    if body.get("provider", "auto") not in ("auto", "value", "official"):
        raise Invalid("provider must be auto, value or official", status=400)
    data = body.get("input")
    if not isinstance(data, dict):
        raise Invalid("input is required", status=400)
    mode = data.get("mode")
    if mode not in APIXO_MODES:
        raise Invalid(f"input.mode must be one of {', '.join(APIXO_MODES)}", status=400)
    prompt = data.get("prompt")
    if not isinstance(prompt, str) or not 3 <= len(prompt) <= 5000:
        raise Invalid("input.prompt must be between 3 and 5,000 characters", status=400)
    ratio = data.get("aspect_ratio")
    if ratio not in APIXO_RATIOS:
        raise Invalid("input.aspect_ratio is required: " + ", ".join(APIXO_RATIOS), status=400)
    resolution = data.get("resolution")
    if resolution not in ("1K", "2K"):
        raise Invalid("input.resolution is required: 1K or 2K", status=400)
    refs = data.get("image_urls") or []
    if not isinstance(refs, list) or len(refs) > 8 or not all(_is_url(u) for u in refs):
        raise Invalid("input.image_urls takes up to 8 image URLs", status=400)
    if APIXO_MODES[mode] and not refs:
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


def validate_apimart(body: dict) -> dict:
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
    if not all(_is_url(u) for u in refs):
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


VALIDATORS = {
    "kie": lambda body: validate_kie(body, strict=False),
    "apikley": lambda body: validate_kie(body, strict=True),
    "liangxin": validate_liangxin,
    "apixo": validate_apixo,
    "apimart": validate_apimart,
}


# ---- Dialect answers. ------------------------------------------------------------------


def error_answer(mount: str, status: int, message: str) -> tuple[int, dict]:
    """How each dialect says no. KIE puts every code in an HTTP 200 body."""
    if mount in KIE_MOUNTS:
        return 200, {"code": status, "msg": message, "data": None}
    if mount == "liangxin":
        if status == 401:
            return 401, {"error": {"message": "invalid token", "type": "new_api_error", "code": ""}}
        if status == 402:
            return 403, {"code": 403, "msg": "insufficient quota", "data": None}
        if status == 455:
            return 503, {"code": 503, "msg": "service under maintenance", "data": None}
        return status, {"code": status, "msg": message, "data": None}
    if mount == "apixo":
        http = 503 if status == 455 else status
        if http == 400:  # Apixo's 400 carries the detail in data.error
            return 400, {"code": 400, "message": "Invalid request", "data": {"error": message}}
        return http, {"code": http, "message": message}
    http = 503 if status == 455 else status
    kinds = {
        401: "authentication_error",
        402: "insufficient_quota",
        429: "rate_limit_error",
        404: "not_found",
    }
    return http, {
        "error": {
            "message": message,
            "type": kinds.get(status, "invalid_request_error"),
            "code": str(status),
        }
    }


def echo_answer(key: str) -> tuple[int, dict]:
    """A provider that repeats the key it was sent in its refusal, as some gateways do."""
    return 401, {"code": 401, "msg": f"Invalid API key provided: {key}", "data": None}


def kie_family(mount: str) -> bool:
    return mount in KIE_MOUNTS


FAULT_ANSWERS = {
    "429": (429, "Too many requests: rate limit exceeded"),
    "455": (455, "Service under maintenance"),
    "402": (402, "Insufficient credits"),
    "500": (500, "Internal server error"),
    "401": (401, "Invalid API key"),
    # A KIE sub-key's hourly, daily or total cap is used up.
    "433": (433, "The usage limit of this API key has been reached"),
    "400": (400, "Missing required field: input.prompt"),
    # Apixo's errors page: 403 is "Content violates policy"; elsewhere "API key lacks
    # permission". Same status, two meanings: only the words tell them apart.
    "403_content": (403, "Content violates policy"),
    "403_key": (403, "API key lacks permission"),
    # KIE: a feature switched off for the account; LiangXin (new-api): a body too large,
    # and the upstream model's own validation.
    "505": (505, "This feature is currently disabled"),
    "413": (413, "Request body too large"),
    "422": (422, "Upstream validation failed: input.prompt is not acceptable"),
}


def create_answer(task: Task) -> dict:
    if task.mount == "apimart":
        return {"code": 200, "data": [{"status": "submitted", "task_id": task.id}]}
    if task.mount == "apixo":
        return {"code": 200, "message": "success", "data": {"taskId": task.id}}
    return {"code": 200, "msg": "success", "data": {"taskId": task.id}}


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


def status_answer(task: Task, sandbox: Sandbox, host: str) -> dict:
    now = time.time()
    phase, fraction = task.phase(now)
    done_at = task.created + task.duration
    if task.dialect == "apimart":
        return {"code": 200, "data": _apimart_data(task, sandbox, host, phase, fraction, done_at)}
    data = _kie_family_data(task, sandbox, host, phase, done_at, fraction)
    if task.dialect == "apixo":
        return {"code": 200, "message": "success", "data": data}
    # KIE says "msg", LiangXin "message" in its examples; clients must read either.
    return {"code": 200, ("msg" if task.dialect == "kie" else "message"): "success", "data": data}


def _param(task) -> str:
    task.param_json = json.dumps(task.body)
    return task.param_json


def _kie_family_data(task, sandbox, host, phase, done_at, fraction=1.0) -> dict:
    if task.dialect == "apixo":
        state = {
            "pending": "pending",
            "running": "processing",
            "success": "success",
            "fail": "failed",
        }[phase]
    else:
        running = "queuing" if phase == "pending" and task.number % 2 else "waiting"
        state = {"pending": running, "running": "generating", "success": "success", "fail": "fail"}[
            phase
        ]
    data: dict = {"taskId": task.id, "state": state, "createTime": _ms(task.created)}
    if task.dialect != "apixo":
        data.update(
            {
                "model": task.model,
                "param": task.param_json or _param(task),
                "resultJson": "",
                "failCode": "",
                "failMsg": "",
                "completeTime": None,
                "updateTime": _ms(time.time()),
            }
        )
    if task.dialect == "kie" and phase == "running" and task.number % 2:
        # "sometimes progress": some records carry one, as a fraction in a string.
        data["progress"] = f"{min(fraction, 0.99):.2f}"
    if phase == "success":
        url, _ = sandbox.file_url(host, task)
        data["resultJson"] = json.dumps({"resultUrls": [url]})
        data["completeTime"] = _ms(done_at)
        data["costTime"] = _ms(task.duration)
        if task.dialect == "kie":
            data["creditsConsumed"] = 8
    elif phase == "fail":
        data["failCode"], data["failMsg"] = task.failure()
        data["completeTime"] = _ms(done_at)
        if task.dialect == "kie":
            # failCode "may be a number, a string or null".
            data["failCode"] = _code_as(data["failCode"], task.number % 3)
    _spoil(task, data, "completeTime")
    if "deep_result" in task.faults and phase == "success":
        data["resultJson"] = "[" * DEEP + "]" * DEEP
    return data


def _code_as(code: str, form: int):
    """A numeric failCode as a number, a string or null; a word (INSUFFICIENT_CREDITS) stays."""
    if not code.isdigit():
        return code
    return (int(code), code, None)[form]


def _spoil(task: Task, data: dict, time_field: str) -> None:
    if "bad_time" in task.faults:
        data[time_field] = 1e20
    elif "inf_time" in task.faults:
        data[time_field] = float("inf")  # json.dumps writes it as the bare word Infinity


def _apimart_data(task, sandbox, host, phase, fraction, done_at) -> dict:
    status = {
        "pending": "pending",
        "running": "processing",
        "success": "completed",
        "fail": "failed",
    }[phase]
    data: dict = {
        "id": task.id,
        "status": status,
        "progress": 100 if phase == "success" else int(fraction * 100) if phase != "fail" else 0,
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
    _spoil(task, data, "completed")
    return data


def callback_body(task: Task, sandbox: Sandbox) -> dict:
    host = f"{sandbox.server.server_address[0]}:{sandbox.server.server_address[1]}"
    phase = task.phase(time.time())[0]
    data = _kie_family_data(task, sandbox, host, phase, task.created + task.duration)
    if task.dialect == "apixo":
        if data["state"] == "failed":
            # The flux-2 page says 400 / "failed", the webhooks page 200 / "success".
            if task.number % 2:
                return {"code": 200, "message": "success", "data": data}
            return {"code": 400, "message": "failed", "data": data}
        return {"code": 200, "message": "success", "data": data}
    if task.dialect != "kie":
        return {"code": 200 if data["state"] == "success" else 501, "msg": "success", "data": data}
    # KIE's callback page: code 200 or 501, "Playground task ..." words, credits and
    # cost added, resultJson null on failure. Its signing example names the task at the
    # top level and as data.task_id: odd tasks are sent that way, even ones as recordInfo.
    ok = data["state"] == "success"
    data.update(
        {
            "consumeCredits": 8 if ok else 0,
            "remainedCredits": 1000 - task.number,
            "costTime": _ms(task.duration),
        }
    )
    if not ok:
        data["resultJson"] = None
    body = {
        "code": 200 if ok else 501,
        "msg": "Playground task completed successfully." if ok else "Playground task failed.",
        "data": data,
    }
    if task.number % 2:
        data["task_id"] = data.pop("taskId")
        data["callbackType"] = "task_completed" if ok else "task_failed"
        body["taskId"] = task.id
    return body


def create_path(mount: str) -> str:
    return {
        "apixo": "/api/v1/generateTask/flux-2",
        "apimart": "/v1/images/generations",
    }.get(mount, "/api/v1/jobs/createTask")


def status_task_id(mount: str, rest: str, query: dict) -> str | None:
    if mount == "apimart":
        prefix = "/v1/tasks/"
        return rest[len(prefix) :] if rest.startswith(prefix) and len(rest) > len(prefix) else None
    expected = "/api/v1/statusTask/flux-2" if mount == "apixo" else "/api/v1/jobs/recordInfo"
    if rest == expected:
        return (query.get("taskId") or [""])[0]
    return None
