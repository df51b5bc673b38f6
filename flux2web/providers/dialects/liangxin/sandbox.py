"""How the sandbox stands in for LiangXin, at /liangxin: KIE's records and paths, its own
input, its own two error envelopes."""

from __future__ import annotations

from flux2web.providers.dialects.kie.sandbox import KieFamily
from flux2web.providers.dialects.liangxin.capabilities import RATIO_SIZES
from flux2web.providers.sandbox.dialect import Invalid, is_url

RATIOS = tuple(RATIO_SIZES)


class LiangXinSandbox(KieFamily):
    dialect = "liangxin"
    message_key = "message"

    def validate(self, body: dict) -> dict:
        return validate(body)

    def error_answer(self, status: int, message: str) -> tuple[int, dict]:
        if status == 401:
            return 401, {"error": {"message": "invalid token", "type": "new_api_error", "code": ""}}
        if status == 402:
            return 403, {"code": 403, "msg": "insufficient quota", "data": None}
        if status == 455:
            return 503, {"code": 503, "msg": "service under maintenance", "data": None}
        return status, {"code": status, "msg": message, "data": None}

    def callback_body(self, task, sandbox) -> dict:
        data = self.callback_record(task, sandbox)
        return {"code": 200 if data["state"] == "success" else 501, "msg": "success", "data": data}


def validate(body: dict) -> dict:
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
        if data["aspect_ratio"] not in RATIOS:
            raise Invalid("input.aspect_ratio is not supported", status=400)
        size = RATIO_SIZES[data["aspect_ratio"]]
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
    if not all(is_url(u) for u in refs):
        raise Invalid("reference images must be URLs", status=400)
    seed = data.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise Invalid("input.seed must be an integer", status=400)
    if "prompt_upsampling" in data and not isinstance(data["prompt_upsampling"], bool):
        raise Invalid("input.prompt_upsampling must be a boolean", status=400)
    callback = body.get("callBackUrl")
    if callback is not None and not is_url(callback):
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
