"""/v1/: a token in `Authorization: Bearer`, checked before anything else is read; every
error in OpenAI's shape; /v1/models lists what some enabled provider can make now."""

import json
import logging

import pytest
from django.test import Client

from flux2web.accounts.models import ApiToken
from flux2web.credentials.models import ProviderCredential

pytestmark = pytest.mark.django_db


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def error_of(response) -> dict:
    body = json.loads(response.content)
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


@pytest.fixture
def token(owner, make_token):
    return make_token(owner)


def test_models_lists_what_some_enabled_provider_can_make(client, token, provider):
    _, raw = token
    response = client.get("/v1/models", **bearer(raw))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert body["object"] == "list"
    ids = [m["id"] for m in body["data"]]
    assert ids == ["flux-2-pro", "flux-2-flex"]
    for entry in body["data"]:
        assert entry["object"] == "model" and entry["owned_by"] == "flux2web"
        assert isinstance(entry["created"], int) and entry["created"] > 1_700_000_000


def test_models_lists_nothing_when_no_provider_is_enabled(client, token, provider):
    ProviderCredential.objects.update(enabled=False)
    body = json.loads(client.get("/v1/models", **bearer(token[1])).content)
    assert body == {"object": "list", "data": []}


def test_models_leaves_out_a_model_no_enabled_provider_offers(client, token, provider):
    ProviderCredential.objects.update(models_offered=["pro"])
    body = json.loads(client.get("/v1/models", **bearer(token[1])).content)
    assert [m["id"] for m in body["data"]] == ["flux-2-pro"]


def dead_tokens(owner, make_token):
    revoked, raw_revoked = make_token(owner, "revoked")
    ApiToken.objects.filter(pk=revoked.pk).revoke()
    expired, raw_expired = make_token(owner, "expired", days=1)
    ApiToken.objects.filter(pk=expired.pk).update(expires_at="2020-01-01T00:00:00Z")
    return {
        "none": {},
        "empty": {"HTTP_AUTHORIZATION": ""},
        "not bearer": {"HTTP_AUTHORIZATION": f"Basic {raw_revoked}"},
        "unknown": bearer("f2w_" + "A" * 43),
        "garbage": bearer("x" * 10_000),
        "revoked": bearer(raw_revoked),
        "expired": bearer(raw_expired),
    }


def test_every_dead_token_gets_401_whatever_it_sends(owner, make_token, django_user_model):
    cases = dead_tokens(owner, make_token)
    other = django_user_model.objects.create_user("gone")
    _, raw_inactive = make_token(other, "inactive owner")
    other.is_active = False
    other.save()
    cases["inactive owner"] = bearer(raw_inactive)
    client = Client(raise_request_exception=False)
    for case, headers in cases.items():
        for method, path in (("GET", "/v1/models"), ("POST", "/v1/models"), ("GET", "/v1/nope")):
            # A body no parser would take, far over any upload limit: never read.
            response = client.generic(
                method, path, b"{" * 5_000_000, content_type="application/json", **headers
            )
            assert response.status_code == 401, (case, method, path)
            error = error_of(response)
            assert error["type"] == "invalid_request_error", case
            code = None if case in ("none", "empty", "not bearer") else "invalid_api_key"
            assert error["code"] == code, case
            assert response["WWW-Authenticate"] == "Bearer"


def test_a_session_is_no_key(client, owner):
    client.force_login(owner)
    assert client.get("/v1/models").status_code == 401


def test_unknown_paths_and_wrong_methods_answer_in_openais_shape(token):
    client = Client(raise_request_exception=False)
    headers = bearer(token[1])
    response = client.get("/v1/images/nothing-here", **headers)
    assert response.status_code == 404
    assert "Invalid URL (GET /v1/images/nothing-here)" in error_of(response)["message"]
    response = client.post("/v1/models", b"{}", content_type="application/json", **headers)
    assert response.status_code == 405
    assert error_of(response)["type"] == "invalid_request_error"
    assert response["Allow"] == "GET"


def test_no_csrf_token_is_needed(token):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/v1/models", b"{}", content_type="application/json", **bearer(token[1]))
    assert response.status_code == 405  # reached the view: no 403 for a missing CSRF token


def test_no_token_appears_in_an_error_or_a_log(token, caplog):
    _, raw = token
    ApiToken.objects.revoke()
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.DEBUG):
        response = client.get("/v1/models", **bearer(raw))
        client.get("/v1/nope", **bearer(raw + "x"))
    assert response.status_code == 401
    assert raw not in response.content.decode()
    assert raw[4:] not in caplog.text and raw[:12] not in caplog.text
