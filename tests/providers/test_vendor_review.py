"""What a review of the provider layer against ../shared/providers.md found missing, each
reproduced first: two documented request fields (KIE's nsfw_checker, Apixo's provider), a
progress KIE sometimes reports, a plain-http callback sent to vendors that take only HTTPS,
and sandbox behaviours the vendors document that the tests could not see."""

import json
import queue
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from flux2web.providers import catalog, client_for
from flux2web.providers.base import percent
from flux2web.providers.sandbox import DEFAULT_API_KEY
from flux2web.providers.types import (
    Ambiguous,
    ErrorClass,
    GenerationRequest,
    Model,
    ProviderFailure,
    TaskState,
    ValidationFailed,
)
from tests.providers.helpers import follow, gateway_page

FOX = GenerationRequest(model=Model.PRO, prompt="a fox in the snow [sandbox:no_callback]")


def with_(**changes) -> GenerationRequest:
    # A vendor's own option (nsfw_checker, route) goes in the request's options.
    own = {k: v for k, v in changes.items() if k not in FOX.__dict__}
    changes = {k: v for k, v in changes.items() if k in FOX.__dict__}
    return GenerationRequest(**{**FOX.__dict__, **changes, "options": own})


# ---- Documented request fields. ---------------------------------------------------------


def test_kies_nsfw_checker_goes_out_inside_input_and_the_sandbox_takes_it(make_client, sandbox):
    client = make_client("kie")
    task_id = client.create(with_(nsfw_checker=True)).task_id
    assert sandbox.get_task(task_id).body["input"]["nsfw_checker"] is True
    plain = client.create(FOX).task_id
    assert "nsfw_checker" not in sandbox.get_task(plain).body["input"]  # off: the API default


def test_the_sandbox_refuses_an_nsfw_checker_that_is_not_a_boolean(sandbox):
    answer = httpx.post(
        sandbox.base_url("kie") + "/api/v1/jobs/createTask",
        json={"model": "flux-2/pro-text-to-image",
              "input": {"prompt": "a fox", "nsfw_checker": "yes"}},
        headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"},
    ).json()  # fmt: skip
    assert answer["code"] == 422 and "nsfw_checker" in answer["msg"]


@pytest.mark.parametrize("route", ["value", "official"])
def test_apixos_routing_goes_out_as_its_top_level_provider_field(make_client, sandbox, route):
    client = make_client("apixo")
    task_id = client.create(with_(route=route)).task_id
    assert sandbox.get_task(task_id).body["provider"] == route
    plain = client.create(FOX).task_id
    assert "provider" not in sandbox.get_task(plain).body  # Apixo's default: auto


def test_the_sandbox_refuses_an_apixo_routing_it_does_not_know(sandbox):
    answer = httpx.post(
        sandbox.base_url("apixo") + "/api/v1/generateTask/flux-2",
        json={"request_type": "async", "provider": "cheapest",
              "input": {"mode": "pro-text-to-image", "prompt": "a fox", "aspect_ratio": "1:1",
                        "resolution": "1K"}},
        headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"},
    )  # fmt: skip
    assert answer.status_code == 400 and "provider must be" in answer.json()["data"]["error"]


def test_each_field_is_refused_with_its_reason_where_the_vendor_has_none():
    problems = catalog.validate("apimart", with_(nsfw_checker=True, route="value"))
    said = {p.field: p.message for p in problems}
    assert said["nsfw_checker"] == "APIMart has no NSFW checker to switch on."
    assert said["route"].startswith("Routing 'value' is not offered by APIMart")
    apixo = catalog.validate("apixo", with_(route="fastest"))
    assert [p.message for p in apixo] == [
        "Routing 'fastest' is not offered by Apixo; choose value or official."
    ]
    assert catalog.validate("kie", with_(nsfw_checker=True)) == []


# ---- Callbacks: only a public HTTPS address where the vendor says so. --------------------


@pytest.mark.parametrize(
    ("dialect", "url", "sent"),
    [
        ("liangxin", "http://flux.example.com/cb", False),
        ("apixo", "http://flux.example.com/cb", False),
        ("liangxin", "https://flux.example.com/cb", True),
        ("apixo", "https://flux.example.com/cb", True),
        ("liangxin", "http://127.0.0.1:8000/cb", True),  # only the sandbox can reach it
        ("apixo", "http://192.168.1.20/cb", True),
        ("kie", "http://flux.example.com/cb", True),  # KIE documents no such rule
    ],
)
def test_a_plain_http_callback_goes_only_where_the_vendor_takes_it(dialect, url, sent):
    caps = catalog.capabilities(dialect, Model.PRO)
    assert caps.callback_for(url) == (url if sent else None)


# ---- KIE's record: progress, credits, failCode in three forms. ----------------------------


@pytest.mark.parametrize(
    ("value", "read"),
    [(40, 40), ("40", 40), ("0.45", 45), (0.5, 50), (1, 1), ("1.0", 100), (250, 100),
     (-3, 0), ("soon", None), (None, None), (True, None), (float("nan"), None),
     (10**400, None)],
)  # fmt: skip
def test_a_providers_progress_is_read_as_a_percentage(value, read):
    assert percent(value) == read


def test_kies_record_reports_progress_on_some_tasks_and_the_client_reads_it(make_client, sandbox):
    sandbox.config.duration = 2
    client = make_client("kie")
    seen = []
    for _ in range(2):  # the sandbox gives odd-numbered tasks a progress, as "sometimes"
        task_id = client.create(FOX).task_id
        deadline = time.monotonic() + 5
        while (status := client.status(task_id)).state is not TaskState.SUCCEEDED:
            assert time.monotonic() < deadline
            if status.state is TaskState.RUNNING:
                seen.append((task_id, status.progress, status.raw["data"].get("progress")))
            time.sleep(0.1)
        assert status.raw["data"]["creditsConsumed"] == 8
    reported = [(p, raw) for _, p, raw in seen if raw is not None]
    assert reported and all(p == int(float(raw) * 100) for p, raw in reported)
    assert any(raw is None for _, _, raw in seen)


def test_kies_failcode_comes_as_a_number_a_string_or_null(make_client):
    client = make_client("kie")
    forms = set()
    for _ in range(3):
        task_id = client.create(with_(prompt="a fox [sandbox:fail] [sandbox:duration=0.1]"))
        status, _ = follow(client, task_id.task_id)
        assert status.state is TaskState.FAILED
        assert status.error_class is ErrorClass.GENERATION_FAILED
        forms.add(type(status.raw["data"]["failCode"]).__name__)
    assert forms == {"int", "str", "NoneType"}


# ---- Result links die a fixed time after completion. -------------------------------------


def test_a_result_link_expires_counting_from_completion_not_from_each_read(make_client, sandbox):
    sandbox.config.url_ttl = 2
    sandbox.config.duration = 0.5
    client = make_client("apimart")
    first, _ = follow(client, client.create(FOX).task_id)
    time.sleep(1.1)
    again = client.status(first.task_id)
    assert again.results[0].expires_at == first.results[0].expires_at
    image = first.raw["data"]["result"]["images"][0]
    assert image["expires_at"] == first.raw["data"]["completed"] + 2


def test_a_kie_result_link_past_its_lifetime_stays_dead_when_read_again(make_client, sandbox):
    sandbox.config.url_ttl = 1
    sandbox.config.duration = 0.5
    client = make_client("kie")
    done, _ = follow(client, client.create(FOX).task_id)
    time.sleep(2.1)
    again = client.status(done.task_id)
    assert again.results[0].url == done.results[0].url
    assert httpx.get(again.results[0].url).status_code == 403


# ---- References KIE would refuse, refused by the sandbox's KIE too. -----------------------


@pytest.mark.parametrize(
    ("path", "why"),
    [("/ref.gif", "is GIF; only JPEG, PNG or WEBP"), ("/padded-ref.png", "larger than 10 MB")],
)
def test_the_sandboxs_kie_refuses_references_kie_would(make_client, image_host, path, why):
    client = make_client("kie")
    request = with_(reference_urls=(image_host + path,))
    status, _ = follow(client, client.create(request).task_id)
    assert status.state is TaskState.FAILED and why in status.message


def test_the_sandboxs_apimart_still_takes_a_gif_reference(make_client, image_host):
    client = make_client("apimart")
    status, _ = follow(
        client, client.create(with_(reference_urls=(image_host + "/r.gif",))).task_id
    )
    assert status.state is TaskState.SUCCEEDED


# ---- Failures and answers each vendor documents. -------------------------------------------


def test_apixo_fails_a_task_as_sensitive_content_detected_a_content_refusal(make_client):
    client = make_client("apixo")
    task_id = client.create(with_(prompt="a fox [sandbox:sensitive_content]")).task_id
    status, _ = follow(client, task_id)
    assert status.code == "SensitiveContentDetected"
    assert status.error_class is ErrorClass.CONTENT_POLICY


def test_apimart_can_cancel_a_task_and_the_client_says_so(make_client):
    client = make_client("apimart")
    status, seen = follow(client, client.create(with_(prompt="a fox [sandbox:cancelled]")).task_id)
    assert status.state is TaskState.CANCELLED and seen[-1] == "cancelled"


def test_kie_answers_505_for_a_feature_switched_off(make_client, sandbox):
    sandbox.inject("505", dialect="kie")
    with pytest.raises(ProviderFailure) as caught:
        make_client("kie").create(FOX)
    assert caught.value.code == "505" and "disabled" in str(caught.value)


@pytest.mark.parametrize(("fault", "words"), [("413", "too large"), ("422", "Upstream")])
def test_liangxin_answers_413_and_422_as_refusals_of_the_request(
    make_client, sandbox, fault, words
):
    sandbox.inject(fault, dialect="liangxin")
    with pytest.raises(ValidationFailed) as caught:
        make_client("liangxin").create(FOX)
    assert caught.value.http_status == int(fault) and words in str(caught.value)


def test_kies_429_carries_no_retry_after_as_kie_documents_none(sandbox):
    sandbox.inject("429", dialect="kie")
    sandbox.inject("429", dialect="apimart")
    kie = httpx.post(
        sandbox.base_url("kie") + "/api/v1/jobs/createTask",
        json={"model": "flux-2/pro-text-to-image", "input": {"prompt": "a fox"}},
        headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"},
    )
    assert kie.json()["code"] == 429 and "retry-after" not in kie.headers
    apimart = httpx.post(
        sandbox.base_url("apimart") + "/v1/images/generations",
        json={"model": "flux-2-pro", "prompt": "a fox"},
        headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"},
    )
    assert apimart.status_code == 429 and apimart.headers["retry-after"] == "1"


# ---- Apixo's callbacks: both failure shapes, one delivery and up to three retries. --------


def _receiver(status: int):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            self.server.received.put(json.loads(body))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.received = queue.Queue()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def receiver(request):
    server = _receiver(request.param)
    yield f"http://127.0.0.1:{server.server_address[1]}/cb", server.received
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("receiver", [204], indirect=True)
def test_apixo_sends_its_failure_callback_in_both_documented_shapes(make_client, receiver):
    url, received = receiver
    client = make_client("apixo")
    for _ in range(2):
        client.create(with_(prompt="x [sandbox:fail] [sandbox:duration=0.2]", callback_url=url))
    bodies = [received.get(timeout=10) for _ in range(2)]
    assert {(b["code"], b["message"]) for b in bodies} == {(200, "success"), (400, "failed")}
    assert all(b["data"]["state"] == "failed" for b in bodies)


@pytest.mark.parametrize("receiver", [500], indirect=True)
def test_a_callback_refused_every_time_is_delivered_once_and_retried_three_times(
    make_client, receiver
):
    url, received = receiver
    request = with_(prompt="a fox [sandbox:duration=0.2]", callback_url=url)
    make_client("apixo").create(request)
    deliveries = [received.get(timeout=10) for _ in range(4)]
    assert len({d["data"]["taskId"] for d in deliveries}) == 1
    with pytest.raises(queue.Empty):
        received.get(timeout=5)


# ---- A proxy's page instead of the vendor's answer to a create. ---------------------------


@pytest.mark.parametrize("status", [502, 504, 520, 524])
def test_a_gateways_page_in_answer_to_a_create_may_hide_an_accepted_task(status):
    with gateway_page(status) as gateway:
        client = client_for("kie", base_url=gateway.url, api_key="k" * 20)
        with client, pytest.raises(Ambiguous) as caught:
            client.create(FOX)
    assert caught.value.accepted_maybe and gateway.creates == 1


@pytest.mark.parametrize("status", [503, 522])
def test_a_page_saying_the_vendor_was_not_reached_is_an_outage_auto_moves_past(status):
    with gateway_page(status) as gateway:
        client = client_for("kie", base_url=gateway.url, api_key="k" * 20)
        with client, pytest.raises(ProviderFailure) as caught:
            client.create(FOX)
    assert caught.value.refused_before_acceptance
