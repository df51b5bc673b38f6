"""How the sandbox stands in for KIE (mounted at /kie, and at /apikley with Apikley's
required fields): KIE's task records, which LiangXin and Apixo share, and what KIE alone
does (errors inside HTTP 200, "recordInfo is null", a create limit, signed callbacks)."""

from __future__ import annotations

import json
import time

from flux2web.providers.catalog import OUTPUT_SIZES, SEVEN_RATIOS
from flux2web.providers.dialects.kie.capabilities import CREATE_LIMIT
from flux2web.providers.dialects.kie.client import sign
from flux2web.providers.sandbox.dialect import Invalid, SandboxDialect, is_url, ms, spoil
from flux2web.providers.sandbox.faults import DEEP

MODELS = {
    "flux-2/pro-text-to-image": False,
    "flux-2/flex-text-to-image": False,
    "flux-2/pro-image-to-image": True,
    "flux-2/flex-image-to-image": True,
}
RATIOS = (*SEVEN_RATIOS, "auto")
# KIE's reference images: JPEG, PNG or WEBP, at most 10 MB each.
REF_FORMATS = ("JPEG", "PNG", "WEBP")
REF_MAX_BYTES = 10 * 1024 * 1024
# What KIE answers about a task it does not know (its Get Task Details page; also live).
RECORD_INFO_NULL = {"code": 422, "msg": "recordInfo is null", "data": None}
# What a task costs in KIE's credits unless the sandbox's profile sets a price.
CREDITS_PER_IMAGE = 8


class KieFamily(SandboxDialect):
    """Task records in KIE's shape, which LiangXin and Apixo share: taskId, state,
    createTime, a resultJson string, failCode and failMsg."""

    create_path = "/api/v1/jobs/createTask"
    status_path = "/api/v1/jobs/recordInfo"
    # Beside "success" in a status answer: KIE says "msg", LiangXin "message" in its
    # examples; clients must read either.
    message_key = "msg"

    def status_task_id(self, rest: str, query: dict) -> str | None:
        return (query.get("taskId") or [""])[0] if rest == self.status_path else None

    def create_answer(self, task) -> dict:
        return {"code": 200, "msg": "success", "data": {"taskId": task.id}}

    def status_answer(self, task, sandbox, host: str) -> dict:
        phase, fraction = task.phase(time.time())
        data = self.record(task, sandbox, host, phase, task.created + task.duration, fraction)
        return {"code": 200, self.message_key: "success", "data": data}

    def state(self, task, phase: str) -> str:
        waiting = "queuing" if phase == "pending" and task.number % 2 else "waiting"
        return {"pending": waiting, "running": "generating", "success": "success", "fail": "fail"}[
            phase
        ]

    def record_fields(self, task) -> dict:
        """What a record carries from the start, beside its id, state and creation time."""
        return {
            "model": task.model,
            "param": task.param_json or _param(task),
            "resultJson": "",
            "failCode": "",
            "failMsg": "",
            "completeTime": None,
            "updateTime": ms(time.time()),
        }

    def details(self, data: dict, task, phase: str, fraction: float) -> None:
        """What the vendor's own records add to the family's (nothing, here)."""

    def record(self, task, sandbox, host, phase, done_at, fraction=1.0) -> dict:
        data: dict = {"taskId": task.id, "state": self.state(task, phase)}
        data["createTime"] = ms(task.created)
        data.update(self.record_fields(task))
        if phase == "success":
            url, _ = sandbox.file_url(host, task)
            data["resultJson"] = json.dumps({"resultUrls": [url]})
            data["completeTime"] = ms(done_at)
            data["costTime"] = ms(task.duration)
        elif phase == "fail":
            data["failCode"], data["failMsg"] = task.failure()
            data["completeTime"] = ms(done_at)
        self.details(data, task, phase, fraction)
        spoil(task, data, "completeTime")
        if "deep_result" in task.faults and phase == "success":
            data["resultJson"] = "[" * DEEP + "]" * DEEP
        return data

    def callback_record(self, task, sandbox) -> dict:
        host = "{}:{}".format(*sandbox.server.server_address[:2])
        phase = task.phase(time.time())[0]
        return self.record(task, sandbox, host, phase, task.created + task.duration)


def _param(task) -> str:
    task.param_json = json.dumps(task.body)
    return task.param_json


class KieSandbox(KieFamily):
    dialect = "kie"
    create_limit = CREATE_LIMIT
    sends_retry_after = False  # KIE documents no Retry-After
    # Its records carry creditsConsumed, its callbacks consumeCredits.
    reports_cost = True

    def __init__(self, mount: str = "", *, strict: bool = False):
        super().__init__(mount)
        # Apikley marks prompt, aspect_ratio and resolution as required inside `input`.
        self.strict = strict

    def validate(self, body: dict) -> dict:
        return validate(body, strict=self.strict)

    def error_answer(self, status: int, message: str) -> tuple[int, dict]:
        # KIE puts every code in an HTTP 200 body.
        return 200, {"code": status, "msg": message, "data": None}

    def unknown_task(self, task_id: str) -> tuple[int, dict]:
        return 200, RECORD_INFO_NULL

    def refuses_reference(self, content: bytes, kind: str | None) -> str:
        if kind not in REF_FORMATS:
            return f"is {kind or 'not an image'}; only JPEG, PNG or WEBP are accepted"
        if len(content) > REF_MAX_BYTES:
            return "is larger than 10 MB"
        return ""

    def details(self, data: dict, task, phase: str, fraction: float) -> None:
        if phase == "running" and task.number % 2:
            # "sometimes progress": some records carry one, as a fraction in a string.
            data["progress"] = f"{min(fraction, 0.99):.2f}"
        elif phase == "success":
            data["creditsConsumed"] = credits(task)
        elif phase == "fail":
            # failCode "may be a number, a string or null".
            data["failCode"] = _code_as(data["failCode"], task.number % 3)

    def callback_headers(self, task, hmac_key: str) -> dict:
        if not hmac_key:
            return {}
        stamp = str(int(time.time()))
        return {"X-Webhook-Timestamp": stamp, "X-Webhook-Signature": sign(hmac_key, task.id, stamp)}

    def callback_body(self, task, sandbox) -> dict:
        # KIE's callback page: code 200 or 501, "Playground task ..." words, credits and
        # cost added, resultJson null on failure. Its signing example names the task at the
        # top level and as data.task_id: odd tasks are sent that way, even ones as recordInfo.
        data = self.callback_record(task, sandbox)
        ok = data["state"] == "success"
        data.update(
            {
                "consumeCredits": credits(task) if ok else 0,
                "remainedCredits": 1000 - task.number,
                "costTime": ms(task.duration),
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


def credits(task) -> int | float:
    """What the task cost in credits: the profile's price, or KIE's usual."""
    price = CREDITS_PER_IMAGE if task.price is None else task.price
    return int(price) if float(price).is_integer() else price


def _code_as(code: str, form: int):
    """A numeric failCode as a number, a string or null; a word (INSUFFICIENT_CREDITS) stays."""
    if not code.isdigit():
        return code
    return (int(code), code, None)[form]


def validate(body: dict, *, strict: bool) -> dict:
    model = body.get("model")
    if model not in MODELS:
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
    if ratio not in RATIOS:
        raise Invalid(f"input.aspect_ratio must be one of {', '.join(RATIOS)}")
    resolution = data.get("resolution", "1K")
    if resolution not in ("1K", "2K"):
        raise Invalid("input.resolution must be 1K or 2K")
    refs = data.get("input_urls") or []
    if MODELS[model]:
        if not isinstance(refs, list) or not 1 <= len(refs) <= 8:
            raise Invalid("input.input_urls must hold 1 to 8 image URLs")
        if not all(is_url(u) for u in refs):
            raise Invalid("input.input_urls must be public image URLs")
    elif refs:
        raise Invalid("input.input_urls is only for image-to-image models")
    if ratio == "auto" and not refs:
        raise Invalid("input.aspect_ratio auto needs an input image")
    callback = body.get("callBackUrl")
    if callback is not None and not is_url(callback):
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
