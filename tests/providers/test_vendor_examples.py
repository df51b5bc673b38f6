"""The vendors' own documented example answers, fed byte for byte through each client."""

import httpx
import pytest

from flux2web.providers import client_for
from flux2web.providers.types import (
    AuthError,
    ErrorClass,
    GenerationRequest,
    Model,
    TaskState,
    ValidationFailed,
)

REQUEST = GenerationRequest(model=Model.PRO, prompt="A sharp commercial photo of a red shoe")


def answering(dialect, status, body):
    transport = httpx.MockTransport(lambda request: httpx.Response(status, json=body))
    return client_for(
        dialect, base_url="https://api.example", api_key="k", http_transport=transport
    )


def test_liangxin_task_accepted_example():
    body = {"code": 200, "msg": "success", "data": {"taskId": "task_flux-2-pro_1777600000000"}}
    assert (
        answering("liangxin", 200, body).create(REQUEST).task_id == "task_flux-2-pro_1777600000000"
    )


def test_liangxin_task_layer_error_example():
    body = {"code": 400, "msg": "input.prompt is required", "data": None}
    with pytest.raises(ValidationFailed, match=r"input\.prompt is required"):
        answering("liangxin", 400, body).create(REQUEST)


def test_liangxin_platform_auth_error_example():
    body = {"error": {"message": "invalid token", "type": "new_api_error", "code": ""}}
    with pytest.raises(AuthError, match="invalid token"):
        answering("liangxin", 401, body).create(REQUEST)


def test_kie_and_apikley_accepted_example():
    body = {"code": 200, "msg": "success", "data": {"taskId": "task_flux-2_1765175490366"}}
    assert answering("kie", 200, body).create(REQUEST).task_id == "task_flux-2_1765175490366"


@pytest.mark.parametrize(
    ("code", "error_class"),
    [(401, ErrorClass.AUTH), (402, ErrorClass.CREDITS), (404, ErrorClass.NOT_FOUND),
     (422, ErrorClass.VALIDATION), (429, ErrorClass.RATE_LIMITED),
     (455, ErrorClass.MAINTENANCE), (500, ErrorClass.PROVIDER_ERROR),
     (501, ErrorClass.GENERATION_FAILED), (505, ErrorClass.PROVIDER_ERROR)],
)  # fmt: skip
def test_kie_business_codes_inside_http_200(code, error_class):
    with pytest.raises(Exception) as caught:
        answering("kie", 200, {"code": code, "msg": "no", "data": None}).create(REQUEST)
    assert caught.value.error_class is error_class


def test_apixo_examples():
    accepted = {"code": 200, "message": "success", "data": {"taskId": "task_12345678"}}
    assert answering("apixo", 200, accepted).create(REQUEST).task_id == "task_12345678"

    processing = {"code": 200, "message": "success",
                  "data": {"taskId": "task_12345678", "state": "processing",
                           "createTime": 1698765400000}}  # fmt: skip
    status = answering("apixo", 200, processing).status("task_12345678")
    assert (status.state, status.provider_state) == (TaskState.RUNNING, "processing")

    failed = {"code": 200, "message": "success",
              "data": {"taskId": "task_12345678", "state": "failed",
                       "failCode": "CONTENT_VIOLATION",
                       "failMsg": "Content does not meet safety guidelines",
                       "createTime": 1698765400000, "completeTime": 1698765412000}}  # fmt: skip
    status = answering("apixo", 200, failed).status("task_12345678")
    assert status.state is TaskState.FAILED
    assert status.error_class is ErrorClass.CONTENT_POLICY

    result_json = '{"resultUrls":["https://example.com/image.jpg"]}'
    data = {"taskId": "task_12345678", "state": "success", "resultJson": result_json}
    success = {"code": 200, "message": "success", "data": data}
    status = answering("apixo", 200, success).status("task_12345678")
    assert [r.url for r in status.results] == ["https://example.com/image.jpg"]


def test_apimart_examples_with_url_as_string_and_as_list():
    accepted = {"code": 200, "data": [{"status": "submitted", "task_id": "task_01"}]}
    assert answering("apimart", 200, accepted).create(REQUEST).task_id == "task_01"
    for url in ("https://cdn.example/a.png", ["https://cdn.example/a.png"]):
        body = {"code": 200, "data": {"id": "task_01", "status": "completed", "progress": 100,
                "result": {"images": [{"url": url, "expires_at": 1763000000}]},
                "created": 1762900000, "completed": 1762900030}}  # fmt: skip
        status = answering("apimart", 200, body).status("task_01")
        assert status.state is TaskState.SUCCEEDED
        assert [r.url for r in status.results] == ["https://cdn.example/a.png"]
        assert status.results[0].expires_at.timestamp() == 1763000000


def test_apimart_cancelled_and_failed():
    cancelled = {"code": 200, "data": {"id": "t", "status": "cancelled", "progress": 10}}
    status = answering("apimart", 200, cancelled).status("t")
    assert status.state is TaskState.CANCELLED
    failed = {
        "code": 200,
        "data": {"id": "t", "status": "failed", "error": "NSFW content detected"},
    }
    status = answering("apimart", 200, failed).status("t")
    assert status.error_class is ErrorClass.CONTENT_POLICY
    assert status.message == "NSFW content detected"


def test_a_success_without_any_url_is_a_failed_generation():
    body = {"code": 200, "msg": "success", "data": {"taskId": "t", "state": "success",
                                                     "resultJson": ""}}  # fmt: skip
    status = answering("kie", 200, body).status("t")
    assert status.state is TaskState.FAILED
    assert status.error_class is ErrorClass.GENERATION_FAILED


def test_an_accepted_answer_without_a_task_id_is_ambiguous():
    with pytest.raises(Exception) as caught:
        answering("kie", 200, {"code": 200, "msg": "success", "data": {}}).create(REQUEST)
    assert caught.value.accepted_maybe
