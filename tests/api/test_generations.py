"""POST /v1/images/generations with no worker running: what is refused before any spend (a
400 naming the parameter, a 429 for the quota or the token's limits, a 409 for a reused
Idempotency-Key), and what a request becomes (its size mapped to the provider's ratio and
resolution, charged to the token's owner) when the wait runs out (504: the job goes on)."""

import json

import pytest

from flux2web.api.models import ApiWait
from flux2web.billing.models import Quota
from flux2web.jobs.models import Job

pytestmark = pytest.mark.django_db

URL = "/v1/images/generations"


@pytest.fixture
def call(client, owner, make_token, provider, settings):
    settings.API_WAIT_SECONDS = 0.2  # no worker here: every accepted request ends in a 504
    _, raw = make_token(owner)

    def post(body, *, raw_body=None, **headers):
        data = raw_body if raw_body is not None else json.dumps(body)
        return client.post(
            URL,
            data=data,
            content_type="application/json",
            headers={"Authorization": f"Bearer {raw}", **headers},
        )

    return post


def error_of(response):
    return response.json()["error"]


def test_an_accepted_request_waits_then_answers_504_and_the_job_goes_on(call, owner):
    response = call({"model": "flux-2-pro", "prompt": "a heron", "n": 2})
    assert response.status_code == 504
    error = error_of(response)
    assert error["type"] == "server_error" and error["code"] == "timeout"
    assert "gallery" in error["message"]
    jobs = list(Job.objects.filter(owner=owner))
    assert len(jobs) == 2
    assert {job.state for job in jobs} == {Job.State.QUEUED}
    assert all(job.api_token_id for job in jobs)
    # The wait is over: the token's place among those waiting is free again.
    assert not ApiWait.objects.exists()


@pytest.mark.parametrize(
    ("size", "ratio", "resolution"),
    [("1536x1024", "3:2", "1K"), ("1024x1792", "9:16", "1K"), ("2048x2048", "1:1", "2K"),
     ("1024x1024", "1:1", "1K"), ("1792x1024", "16:9", "1K")],
)  # fmt: skip
def test_a_size_becomes_the_providers_nearest_ratio_and_resolution(call, size, ratio, resolution):
    assert call({"prompt": "a heron", "size": size}).status_code == 504
    job = Job.objects.get()
    assert (job.aspect_ratio, job.resolution) == (ratio, resolution)


def test_extension_fields_win_over_the_size(call):
    body = {"prompt": "a heron", "size": "1024x1024", "aspect_ratio": "16:9", "resolution": "2K"}
    assert call(body).status_code == 504
    job = Job.objects.get()
    assert (job.aspect_ratio, job.resolution) == ("16:9", "2K")


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        ({"prompt": "a fox", "size": "big"}, "size", 'e.g. "1536x1024"'),
        ({"prompt": "a fox", "size": "4096x512"}, "size", "aspect ratios are"),
        ({"prompt": "a fox", "n": "2"}, "n", "expected an integer, but got a string"),
        ({"prompt": "a fox", "n": True}, "n", "expected an integer"),
        ({"prompt": "a fox", "n": 9}, "n", "from 1 to 4"),
        ({"prompt": "a fox", "colour": "red"}, "colour", "Unrecognized request argument"),
        ({"prompt": "a fox", "response_format": "png"}, "response_format", "url, b64_json"),
        ({"prompt": "a fox", "provider": "Nobody"}, "provider", "KIE.ai"),
        ({"prompt": "a fox", "image_urls": "not a list"}, "image_urls", None),
        ({"prompt": "a fox", "image_urls": [3]}, "image_urls", "array of strings"),
        ({"prompt": "a fox", "aspect_ratio": "5:1"}, "aspect_ratio", "choose one of"),
        ({"prompt": "x" * 6000}, "prompt", None),
        ({"prompt": "   "}, "prompt", "Missing required parameter"),
        ({"model": "dall-e-3", "prompt": "a fox"}, "model", "flux-2-pro"),
    ],
)
def test_bad_requests_are_refused_naming_the_parameter_before_any_spend(
    call, owner, body, param, words
):
    response = call(body)
    assert response.status_code in (400, 404), response.content
    error = error_of(response)
    assert error["param"] == param
    if words:
        assert words in error["message"]
    assert not Job.objects.exists()


def test_a_string_image_url_is_taken_as_a_list_of_one(call):
    response = call({"prompt": "a fox", "image_urls": "not a list"})
    assert error_of(response)["param"] == "image_urls"
    assert "Reference image 1" in error_of(response)["message"]


def test_openais_fields_flux_cannot_honour_are_accepted_and_ignored(call):
    body = {"prompt": "a heron", "quality": "hd", "style": "vivid", "background": "auto",
            "moderation": "low", "output_format": "png", "output_compression": 80,
            "user": "user-1234"}  # fmt: skip
    assert call(body).status_code == 504
    assert Job.objects.count() == 1


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", "", '"a string"'])
def test_a_body_that_is_not_a_json_object_is_a_400(call, raw):
    response = call(None, raw_body=raw)
    assert response.status_code == 400
    assert error_of(response)["type"] == "invalid_request_error"
    assert not Job.objects.exists()


def test_a_huge_body_is_a_413_not_a_500(call, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = call({"prompt": "x" * 20_000})
    assert response.status_code == 413
    assert "error" in response.json()


def test_over_the_quota_is_a_429_insufficient_quota_and_nothing_is_made(call, owner):
    Quota.objects.update_or_create(user=owner, defaults={"monthly_images": 1})
    response = call({"prompt": "a heron", "n": 2})
    assert response.status_code == 429
    error = error_of(response)
    assert (error["type"], error["code"]) == ("insufficient_quota", "insufficient_quota")
    assert "monthly limit" in error["message"]
    assert not Job.objects.exists()


def test_the_same_idempotency_key_and_body_never_creates_or_charges_twice(call, owner):
    body = {"prompt": "a heron", "n": 2}
    assert call(body, **{"Idempotency-Key": "abc-1"}).status_code == 504
    assert call(body, **{"Idempotency-Key": "abc-1"}).status_code == 504
    assert Job.objects.count() == 2
    # Another body under the same key is a conflict, and makes nothing.
    response = call({"prompt": "an owl", "n": 2}, **{"Idempotency-Key": "abc-1"})
    assert response.status_code == 409
    assert "Idempotency-Key" in error_of(response)["message"]
    assert Job.objects.count() == 2
    # Without a key, or with another one, the same body is a new request.
    assert call(body, **{"Idempotency-Key": "abc-2"}).status_code == 504
    assert Job.objects.count() == 4


def test_a_key_is_the_tokens_own(call, client, owner, make_token, settings):
    body = {"prompt": "a heron"}
    assert call(body, **{"Idempotency-Key": "same"}).status_code == 504
    _, other = make_token(owner, name="another")
    headers = {"Authorization": f"Bearer {other}", "Idempotency-Key": "same"}
    response = client.post(
        URL, data=json.dumps(body), content_type="application/json", headers=headers
    )
    assert response.status_code == 504
    assert Job.objects.count() == 2


def test_the_rate_limit_is_a_429_with_retry_after(call, settings):
    settings.API_RATE_PER_MINUTE = 2
    statuses = [call({"prompt": "a fox", "colour": "red"}).status_code for _ in range(3)]
    assert statuses == [400, 400, 429]
    response = call({"prompt": "a heron"})
    assert response.status_code == 429
    assert error_of(response)["code"] == "rate_limit_exceeded"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert not Job.objects.exists()


def test_requests_waiting_at_once_are_limited_per_token(call, owner, settings):
    from datetime import timedelta

    from django.utils import timezone

    from flux2web.accounts.models import ApiToken

    settings.API_CONCURRENT_REQUESTS = 2
    token = ApiToken.objects.get(owner=owner)
    # Two connections of this token are waiting now (in other processes), whatever their
    # Idempotency-Key: one key's retries are each a connection held.
    until = timezone.now() + timedelta(minutes=5)
    waits = [ApiWait.objects.create(token=token, until=until) for _ in range(2)]
    for key in ("", "the-same-key"):
        response = call({"prompt": "a heron"}, **({"Idempotency-Key": key} if key else {}))
        assert response.status_code == 429
        assert error_of(response)["code"] == "rate_limit_exceeded"
        assert response["Retry-After"]
        assert response["x-should-retry"] == "true"
    assert not Job.objects.exists()
    # A place left by a process that died while waiting frees itself in time.
    ApiWait.objects.filter(pk=waits[0].pk).update(until=timezone.now())
    assert call({"prompt": "a heron"}).status_code == 504


def test_errors_that_a_retry_would_pay_for_again_tell_the_sdk_not_to_retry(call, owner):
    assert call({"prompt": "a heron"})["x-should-retry"] == "false"  # the 504
    assert call({"prompt": "a fox", "n": 9})["x-should-retry"] == "false"


def test_an_sdk_retry_without_a_key_is_the_same_request(call, owner):
    body = {"prompt": "a heron", "n": 2}
    assert call(body).status_code == 504
    # The SDK gave up waiting and sent it again, saying so.
    assert call(body, **{"X-Stainless-Retry-Count": "1"}).status_code == 504
    assert Job.objects.count() == 2
    # A script asking again on purpose (no retry count) asks for new images.
    assert call(body, **{"X-Stainless-Retry-Count": "0"}).status_code == 504
    assert Job.objects.count() == 4


@pytest.mark.parametrize(
    "raw",
    ['{"prompt": "a heron", "user": ' + "[" * 100_000 + "]" * 100_000 + "}",
     r'{"prompt": "a heron \ud800"}', r'{"prompt": "a heron", "provider": "\udfff"}'],
    ids=["deeply nested", "lone surrogate in prompt", "lone surrogate in provider"],
)  # fmt: skip
def test_bodies_python_reads_badly_are_a_400(call, raw):
    response = call(None, raw_body=raw)
    assert response.status_code == 400
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    ("body", "param"),
    [({"prompt": "a he\u0000ron"}, "prompt"),
     ({"prompt": "a heron", "provider": "Ki\u0000E"}, "provider"),
     ({"prompt": "a heron", "image_urls": ["https://example.com/a\u0000.png"]}, "image_urls"),
     ({"prompt": "a heron", "size": "1024x\u00001024"}, "size")],
    ids=["prompt", "provider", "image_urls", "size"],
)  # fmt: skip
def test_a_nul_character_is_a_400_naming_the_field(call, body, param):
    # PostgreSQL cannot store it: it was a 500 there (SQLite took it).
    response = call(body)
    assert response.status_code == 400
    assert error_of(response)["param"] == param
    assert "NUL" in error_of(response)["message"]
    assert not Job.objects.exists()


def test_more_references_than_any_provider_takes_is_refused_before_any_lookup(call):
    urls = [f"https://nowhere-{n}.invalid/a.png" for n in range(40)]
    response = call({"prompt": "a heron", "image_urls": urls})
    assert response.status_code == 400
    assert error_of(response)["param"] == "image_urls"
    assert "At most" in error_of(response)["message"]


def test_a_size_with_a_seed_under_auto_maps_for_a_provider_that_takes_a_seed(call, sandbox):
    from flux2web.credentials.services import add_credential

    add_credential(name="LiangXin", dialect="liangxin", base_url=sandbox.base_url("liangxin"),
                   api_key="sandbox-key", priority=99)  # fmt: skip
    assert call({"prompt": "a heron", "seed": 7, "size": "1536x1024"}).status_code == 504
    job = Job.objects.get()
    assert (job.seed, job.aspect_ratio) == (7, "3:2")


def test_a_token_revoked_while_its_request_waits_gets_no_addresses(
    call, owner, settings, monkeypatch
):
    from flux2web.accounts.models import ApiToken
    from flux2web.api import generating

    waited = generating._wait

    def revoked_meanwhile(jobs, **waiting):
        ApiToken.objects.revoke()
        return waited(jobs, **waiting)

    monkeypatch.setattr(generating, "_wait", revoked_meanwhile)
    monkeypatch.setattr(generating, "DONE", (*generating.DONE, Job.State.QUEUED))
    response = call({"prompt": "a heron"})
    assert response.status_code == 401
    assert Job.objects.count() == 1  # it goes on to the gallery


def test_a_dead_token_gets_401_whatever_it_sent(client, owner):
    response = client.post(URL, data="{not json", content_type="application/json",
                           headers={"Authorization": "Bearer f2w_nothing"})  # fmt: skip
    assert response.status_code == 401
    assert not Job.objects.exists()


def test_get_is_a_405(call, client, owner, make_token):
    _, raw = make_token(owner, name="x")
    response = client.get(URL, headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 405


def test_a_seed_under_auto_is_refused_when_no_provider_takes_one(call):
    response = call({"prompt": "a heron", "seed": 42})
    assert response.status_code == 400
    assert error_of(response)["param"] == "seed"
    assert not Job.objects.exists()


def test_a_seed_under_auto_goes_to_a_provider_that_takes_one(call, sandbox):
    from flux2web.credentials.services import add_credential

    add_credential(name="LiangXin", dialect="liangxin", base_url=sandbox.base_url("liangxin"),
                   api_key="sandbox-key", priority=99)  # fmt: skip
    assert call({"prompt": "a heron", "seed": 42}).status_code == 504
    job = Job.objects.get()
    assert job.seed == 42
    assert job.requested_provider is None  # Auto, kept to the providers that take a seed


def test_a_vendor_option_is_taken_under_its_own_name_and_type(call):
    assert call({"prompt": "a heron", "nsfw_checker": "yes"}).status_code == 400
    assert call({"prompt": "a heron", "nsfw_checker": True}).status_code == 504
    assert Job.objects.get().options == {"nsfw_checker": True}
