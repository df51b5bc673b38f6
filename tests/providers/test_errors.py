"""Every error class is recognised from each dialect's own shapes, over real sockets."""

import socket

import pytest

from flux2web.providers import client_for
from flux2web.providers.base import InvalidRequest
from flux2web.providers.transport import Timeouts
from flux2web.providers.types import (
    Ambiguous,
    AuthError,
    ErrorClass,
    GenerationRequest,
    InsufficientCredits,
    Maintenance,
    Model,
    NotFound,
    ProviderFailure,
    RateLimited,
    TaskState,
    Unreachable,
    ValidationFailed,
)
from tests.providers.helpers import follow

MOUNTS = ["kie", "apikley", "liangxin", "apixo", "apimart"]
REQUEST = GenerationRequest(model=Model.PRO, prompt="a lighthouse at dusk")


def tagged(tag):
    return GenerationRequest(model=Model.PRO, prompt=f"a lighthouse at dusk [sandbox:{tag}]")


def creates(sandbox, mount):
    return sandbox.snapshot().get(f"create_requests:{mount}", 0)


def tasks_made(sandbox, mount):
    return sandbox.snapshot().get(f"tasks_created:{mount}", 0)


@pytest.mark.parametrize("mount", MOUNTS)
def test_a_refused_key_is_an_auth_error(make_client, mount):
    client = make_client(mount, api_key="not-the-key")
    with pytest.raises(AuthError) as caught:
        client.create(REQUEST)
    # KIE puts every error in an HTTP 200 body (reported live); the others say 401.
    assert caught.value.http_status == (200 if mount in ("kie", "apikley") else 401)
    assert caught.value.code == "401" or mount not in ("kie", "apikley")
    assert not caught.value.refused_before_acceptance
    with pytest.raises(AuthError):
        client.status("task_anything")


def test_liangxin_auth_errors_come_in_the_platform_envelope(make_client):
    with pytest.raises(AuthError) as caught:
        make_client("liangxin", api_key="nope").create(REQUEST)
    assert caught.value.raw == {
        "error": {"message": "invalid token", "type": "new_api_error", "code": ""}
    }
    assert caught.value.message == "invalid token"


@pytest.mark.parametrize("mount", MOUNTS)
def test_empty_credits_are_recognised(make_client, sandbox, mount):
    with pytest.raises(InsufficientCredits) as caught:
        make_client(mount).create(tagged("402"))
    assert tasks_made(sandbox, mount) == 0
    if mount == "liangxin":
        # LiangXin says 403 "insufficient quota" for an empty account.
        assert caught.value.http_status == 403


@pytest.mark.parametrize("mount", MOUNTS)
def test_rate_limits_carry_retry_after_and_allow_failover(make_client, sandbox, mount):
    sandbox.inject("429", dialect=mount, retry_after=7)
    with pytest.raises(RateLimited) as caught:
        make_client(mount).create(REQUEST)
    assert caught.value.retry_after == 7
    assert caught.value.refused_before_acceptance
    if mount in ("kie", "apikley"):
        # KIE answers HTTP 200 and puts the 429 in the body's code.
        assert caught.value.http_status == 200
        assert caught.value.code == "429"


@pytest.mark.parametrize("mount", MOUNTS)
def test_maintenance_is_recognised(make_client, mount):
    with pytest.raises(Maintenance) as caught:
        make_client(mount).create(tagged("455"))
    assert caught.value.refused_before_acceptance


@pytest.mark.parametrize("mount", MOUNTS)
def test_a_server_error_on_create_is_not_retried(make_client, sandbox, mount):
    sandbox.inject("500", dialect=mount)
    with pytest.raises(ProviderFailure) as caught:
        make_client(mount).create(REQUEST)
    assert caught.value.refused_before_acceptance
    assert creates(sandbox, mount) == 1


@pytest.mark.parametrize("mount", MOUNTS)
def test_a_dropped_connection_after_sending_is_ambiguous(make_client, sandbox, mount):
    with pytest.raises(Ambiguous) as caught:
        make_client(mount).create(tagged("drop"))
    assert caught.value.accepted_maybe
    assert not caught.value.refused_before_acceptance
    assert creates(sandbox, mount) == 1


@pytest.mark.parametrize("mount", MOUNTS)
def test_a_lost_answer_is_ambiguous_though_the_task_exists(make_client, sandbox, mount):
    with pytest.raises(Ambiguous):
        make_client(mount).create(tagged("lost"))
    assert tasks_made(sandbox, mount) == 1
    assert creates(sandbox, mount) == 1


def test_a_slow_answer_past_the_timeout_is_ambiguous(make_client, sandbox):
    client = make_client("kie", timeouts=Timeouts(connect=1, create=0.5, read=0.5))
    with pytest.raises(Ambiguous) as caught:
        client.create(tagged("slow"))
    assert "may have accepted" in caught.value.message
    assert creates(sandbox, "kie") == 1


def test_a_slow_answer_within_the_timeout_is_just_slow(make_client):
    assert make_client("apixo").create(tagged("slow")).task_id


def test_nothing_listening_is_unreachable_and_nothing_was_sent():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = client_for("kie", base_url=f"http://127.0.0.1:{port}/kie", api_key="k")
    with pytest.raises(Unreachable) as caught:
        client.create(REQUEST)
    assert not caught.value.accepted_maybe
    assert caught.value.refused_before_acceptance


@pytest.mark.parametrize("mount", MOUNTS)
def test_an_unknown_task_is_not_found(make_client, mount):
    with pytest.raises(NotFound):
        make_client(mount).status("task_that_never_was")


@pytest.mark.parametrize("mount", MOUNTS)
def test_a_content_refusal_fails_the_task_as_content_policy(make_client, mount):
    client = make_client(mount)
    status, _ = follow(client, client.create(tagged("content_violation")).task_id)
    assert status.state is TaskState.FAILED
    assert status.error_class is ErrorClass.CONTENT_POLICY
    assert status.message
    if mount == "apixo":
        assert status.code == "CONTENT_VIOLATION"


@pytest.mark.parametrize("mount", MOUNTS)
def test_a_failed_generation_is_generation_failed(make_client, mount):
    client = make_client(mount)
    status, _ = follow(client, client.create(tagged("fail")).task_id)
    assert status.state is TaskState.FAILED
    assert status.error_class is ErrorClass.GENERATION_FAILED


def test_a_task_that_never_ends_keeps_running(make_client, sandbox):
    client = make_client("apixo")
    task_id = client.create(tagged("never")).task_id
    import time

    time.sleep(sandbox.config.duration * 3)
    status = client.status(task_id)
    assert status.state is TaskState.RUNNING
    assert status.provider_state == "processing"


class TestStatusReadsAreRetried:
    def test_a_passing_rate_limit_is_waited_out(self, make_client, sandbox):
        client = make_client("kie")
        task_id = client.create(REQUEST).task_id
        sandbox.inject("429", dialect="kie", on="status", retry_after=0)
        assert client.status(task_id).task_id == task_id
        assert sandbox.snapshot()["status_reads:kie"] == 2

    def test_retries_are_bounded(self, make_client, sandbox):
        client = make_client("apimart", backoff=0.01)
        task_id = client.create(REQUEST).task_id
        sandbox.inject("500", dialect="apimart", on="status", times=5)
        with pytest.raises(ProviderFailure):
            client.status(task_id)
        assert sandbox.snapshot()["status_reads:apimart"] == 3

    def test_a_long_retry_after_is_left_to_the_caller(self, make_client, sandbox):
        client = make_client("liangxin")
        task_id = client.create(REQUEST).task_id
        sandbox.inject("429", dialect="liangxin", on="status", retry_after=60)
        with pytest.raises(RateLimited) as caught:
            client.status(task_id)
        assert caught.value.retry_after == 60
        assert sandbox.snapshot()["status_reads:liangxin"] == 1

    def test_a_dropped_status_read_is_retried(self, make_client, sandbox):
        client = make_client("apixo", backoff=0.01)
        task_id = client.create(REQUEST).task_id
        sandbox.inject("drop", dialect="apixo", on="status")
        assert client.status(task_id).task_id == task_id


@pytest.mark.parametrize("mount", MOUNTS)
def test_an_invalid_request_is_refused_locally_and_nothing_is_sent(make_client, sandbox, mount):
    request = GenerationRequest(model=Model.PRO, prompt="ab", aspect_ratio="5:4")
    with pytest.raises(InvalidRequest) as caught:
        make_client(mount).create(request)
    fields = [p.field for p in caught.value.problems]
    assert "aspect_ratio" in fields
    assert creates(sandbox, mount) == 0


@pytest.mark.parametrize(
    ("mount", "path", "body", "status"),
    [
        ("kie", "/api/v1/jobs/createTask",
         {"model": "flux-2/pro-text-to-image", "input": {"prompt": "ab"}}, 200),
        ("apikley", "/api/v1/jobs/createTask",
         {"model": "flux-2/pro-text-to-image", "input": {"prompt": "a lighthouse"}}, 200),
        ("liangxin", "/api/v1/jobs/createTask",
         {"model": "flux-2-pro", "input": {"prompt": "a lighthouse", "width": 512}}, 400),
        ("apixo", "/api/v1/generateTask/flux-2",
         {"request_type": "callback", "input": {"mode": "pro-text-to-image"}}, 400),
        ("apimart", "/v1/images/generations",
         {"model": "flux-2-pro", "prompt": "x", "size": "21:9"}, 400),
    ],
)  # fmt: skip
def test_the_sandbox_refuses_what_the_vendor_would(make_client, sandbox, mount, path, body, status):
    client = make_client(mount)
    response = client.transport.create(path, body)
    assert response.status == status
    with pytest.raises(ValidationFailed):
        client.parse_create(response)
    assert tasks_made(sandbox, mount) == 0
