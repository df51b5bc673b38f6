"""The `liangxin` dialect's client: KIE's paths and states, its own input and errors."""

from __future__ import annotations

from flux2web.providers import catalog
from flux2web.providers.base import error_from_code
from flux2web.providers.dialects.kie.client import KieClient
from flux2web.providers.transport import Response
from flux2web.providers.types import (
    AuthError,
    GenerationRequest,
    InsufficientCredits,
    ProviderError,
)


class LiangXinClient(KieClient):
    dialect = "liangxin"

    def input_fields(self, request: GenerationRequest, caps: catalog.Capabilities) -> dict:
        data: dict = {"prompt": request.prompt.strip()}
        if request.width is not None and request.height is not None:
            data["width"], data["height"] = request.width, request.height
        elif request.aspect_ratio:
            data["aspect_ratio"] = request.aspect_ratio
        for number, url in enumerate(request.reference_urls, start=1):
            data["input_image" if number == 1 else f"input_image_{number}"] = url
        if request.seed is not None:
            data["seed"] = request.seed
        if request.prompt_upsampling:
            data["prompt_upsampling"] = True
        return data

    def error(self, response: Response, body: dict) -> ProviderError:
        envelope = body.get("error")
        if isinstance(envelope, dict):
            # Authentication is refused before the task layer, in the platform's envelope.
            message = str(envelope.get("message") or "The request was refused.")
            code = response.status
        else:
            message = str(body.get("msg") or body.get("message") or "")
            code = body.get("code") if isinstance(body.get("code"), int) else response.status
        if code == 403:
            # 403 means "insufficient quota or access denied": tell the two apart by words.
            cls = InsufficientCredits if "quota" in message.lower() else AuthError
            return cls(message, http_status=response.status, code="403", raw=body)
        if isinstance(envelope, dict) and code == 401:
            return AuthError(message, http_status=response.status, code="401", raw=body)
        return error_from_code(
            code, message, http_status=response.status, retry_after=response.retry_after, raw=body
        )
