"""`auth.endpoint`, which every /v1/ view stands behind: the token first, then the method,
then the view; whatever goes wrong inside is still an answer in OpenAI's shape."""

import io
import json
import logging

import pytest
from django.test import RequestFactory

from flux2web.api import errors
from flux2web.api.auth import endpoint

pytestmark = pytest.mark.django_db


@endpoint("POST")
def reads_the_body(request):
    return errors.ApiError(400, f"read {len(json.loads(request.body))}", param="x").response()


@endpoint("GET")
def breaks(request):
    raise RuntimeError("a bug: " + request.META["HTTP_AUTHORIZATION"])


def call(view, method, raw, body=b"[]"):
    request = RequestFactory().generic(
        method, "/v1/x", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    response = view(request)
    return response, json.loads(response.content)["error"]


def test_the_view_runs_as_the_tokens_owner_and_its_error_is_the_answer(owner, make_token):
    _, raw = make_token(owner)
    response, error = call(reads_the_body, "POST", raw)
    assert response.status_code == 400
    assert error == {"message": "read 0", "type": "invalid_request_error", "param": "x",
                     "code": None}  # fmt: skip


def test_a_body_over_the_limit_is_a_413(owner, make_token, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    _, raw = make_token(owner)
    response, error = call(reads_the_body, "POST", raw, body=b"[" + b"1," * 2000 + b"1]")
    assert response.status_code == 413 and error["type"] == "invalid_request_error"


def test_files_over_what_any_provider_takes_are_refused_before_they_are_read(
    owner, make_token, settings
):
    # Django writes a multipart body's files to disk before a view sees them: 100 files of
    # 50 MB each would fill the disk before check_image refused the first.
    settings.MAX_IMAGE_BYTES = 1000
    _, raw = make_token(owner)
    files = [io.BytesIO(b"x" * 100_000) for _ in range(12)]  # past 8 x 1000 bytes and 1 MB
    request = RequestFactory().post("/v1/x", {"image": files}, HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = reads_the_body(request)
    assert response.status_code == 413
    assert json.loads(response.content)["error"]["message"] == "The request body is too large."
    assert not hasattr(request, "_body") and not hasattr(request, "_files")  # never read


def test_a_bug_is_a_500_in_the_same_shape_and_the_log_holds_no_token(owner, make_token, caplog):
    _, raw = make_token(owner)
    with caplog.at_level(logging.ERROR):
        response, error = call(breaks, "GET", raw)
    assert response.status_code == 500 and error["type"] == "server_error"
    assert raw not in json.dumps(error)
    assert "API error on GET /v1/x" in caplog.text and "RuntimeError: a bug" in caplog.text
    assert raw not in caplog.text and raw[4:] not in caplog.text
