"""The shared transport: who we say we are, what we record, and what we never reveal."""

import logging

import httpx
import pytest

from flux2web import __version__
from flux2web.providers import client_for
from flux2web.providers.transport import Transport, parse_retry_after
from flux2web.providers.types import Ambiguous, GenerationRequest, Model

SECRET = "sk-live-0123456789abcdef0123456789"


def test_every_call_names_flux2web_and_its_version_and_carries_the_key():
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, json={"code": 200, "data": {"taskId": "t1"}})

    client = client_for("kie", base_url="https://api.example/", api_key=SECRET,
                        http_transport=httpx.MockTransport(handler))  # fmt: skip
    client.create(GenerationRequest(model=Model.PRO, prompt="a lighthouse"))

    (request,) = seen
    assert request.headers["user-agent"].startswith(f"Flux2Web/{__version__}")
    assert request.headers["authorization"] == f"Bearer {SECRET}"
    assert str(request.url) == "https://api.example/api/v1/jobs/createTask"


def test_a_base_url_with_a_path_keeps_it():
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, json={})

    transport = Transport(
        "http://127.0.0.1:1/kie", "k", http_transport=httpx.MockTransport(handler)
    )
    transport.read("/api/v1/jobs/recordInfo", lambda r: r, params={"taskId": "t"})
    assert str(seen[0].url) == "http://127.0.0.1:1/kie/api/v1/jobs/recordInfo?taskId=t"


def test_calls_are_recorded_with_status_and_duration_but_no_secret(make_client, sandbox):
    records = []
    client = make_client("apixo", observer=records.append)
    task_id = client.create(GenerationRequest(model=Model.PRO, prompt="a fox")).task_id
    client.status(task_id)

    assert [(r.method, r.path, r.status) for r in records] == [
        ("POST", "/api/v1/generateTask/flux-2", 200),
        ("GET", "/api/v1/statusTask/flux-2", 200),
    ]
    assert all(r.duration_ms >= 0 for r in records)
    assert "sandbox-key" not in repr(records)


def test_a_failed_connection_is_recorded_too():
    records = []
    transport = Transport("http://127.0.0.1:1", "k", observer=records.append)
    with pytest.raises(Exception):  # noqa: B017 - Unreachable, checked elsewhere
        transport.create("/x", {})
    assert records[0].status is None
    assert "ConnectError" in records[0].outcome


def test_the_key_never_reaches_a_repr_an_error_or_a_log(caplog):
    caplog.set_level(logging.DEBUG)

    def handler(request):
        raise httpx.ReadTimeout("timed out", request=request)

    client = client_for("liangxin", base_url="https://api.example", api_key=SECRET,
                        name="LiangXin", http_transport=httpx.MockTransport(handler))  # fmt: skip
    with pytest.raises(Ambiguous) as caught:
        client.create(GenerationRequest(model=Model.PRO, prompt="a lighthouse"))

    for text in (repr(client), repr(client.transport), str(caught.value), caplog.text):
        assert SECRET not in text


def test_a_create_answered_with_a_proxys_unavailable_page_is_not_a_task():
    # 503: the request was not taken. (A 502 or 504 page may hide an accepted task:
    # tests/providers/test_vendor_review.py.)
    def handler(request):
        return httpx.Response(503, text="<html>Service unavailable</html>")

    client = client_for("apimart", base_url="https://api.example", api_key="k",
                        http_transport=httpx.MockTransport(handler))  # fmt: skip
    with pytest.raises(Exception) as caught:
        client.create(GenerationRequest(model=Model.PRO, prompt="a lighthouse"))
    assert caught.value.refused_before_acceptance
    assert not caught.value.accepted_maybe


def test_a_create_answered_200_without_json_might_have_been_accepted():
    def handler(request):
        return httpx.Response(200, text="OK")

    client = client_for("kie", base_url="https://api.example", api_key="k",
                        http_transport=httpx.MockTransport(handler))  # fmt: skip
    with pytest.raises(Ambiguous):
        client.create(GenerationRequest(model=Model.PRO, prompt="a lighthouse"))


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("3", 3.0), (" 1.5 ", 1.5), ("-4", 0.0), ("soon", None), (None, None), ("", None)],
)
def test_retry_after_in_seconds(value, seconds):
    assert parse_retry_after(value) == seconds


def test_retry_after_as_an_http_date():
    import time
    from email.utils import formatdate

    assert 8 <= parse_retry_after(formatdate(time.time() + 10, usegmt=True)) <= 10
