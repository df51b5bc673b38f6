"""Callback bodies per dialect, KIE's signature, and the sandbox really calling back."""

import json
import queue
import threading
import time
from http.server import ThreadingHTTPServer

import pytest

from flux2web.providers import CLIENTS
from flux2web.providers.base import CallbacksNotSupported
from flux2web.providers.dialects.kie.client import BadSignature, sign, verify_signature
from flux2web.providers.types import (
    ErrorClass,
    GenerationRequest,
    Model,
    TaskState,
    ValidationFailed,
)
from tests.providers.helpers import Receiver

KEY = "whsec-test-key"

# Apixo's documented callback bodies, verbatim.
APIXO_SUCCESS = {
    "code": 200, "message": "success",
    "data": {"taskId": "task_12345678", "state": "success",
             "resultJson": "{\"resultUrls\":[\"https://example.com/result.jpg\"]}",
             "completeTime": 1698765412000, "createTime": 1698765400000, "costTime": 12000},
}  # fmt: skip
APIXO_FAILURE = {
    "code": 400, "message": "failed",
    "data": {"taskId": "task_12345678", "state": "failed", "failCode": "CONTENT_VIOLATION",
             "failMsg": "Content does not meet safety guidelines",
             "completeTime": 1698765412000, "createTime": 1698765400000, "costTime": 12000},
}  # fmt: skip
# KIE's callback is recordInfo's shape; one vendor example spells the id task_id.
KIE_SUCCESS = {
    "code": 200, "msg": "success",
    "data": {"task_id": "task_flux-2_1765175490366", "model": "flux-2/pro-text-to-image",
             "state": "success", "param": "{}", "failCode": "", "failMsg": "",
             "resultJson": "{\"resultUrls\":[\"https://tempfile.example/abc.png\"]}",
             "createTime": 1765175490366, "completeTime": 1765175512000},
}  # fmt: skip


def client(dialect, hmac_key=""):
    return CLIENTS[dialect](transport=None, hmac_key=hmac_key)


def signed_headers(task_id, *, key=KEY, at=None):
    stamp = str(int(at if at is not None else time.time()))
    return {"X-Webhook-Timestamp": stamp, "X-Webhook-Signature": sign(key, task_id, stamp)}


class TestKieSignature:
    task_id = "task_flux-2_1765175490366"

    def test_a_good_signature_passes(self):
        verify_signature(key=KEY, task_id=self.task_id, headers=signed_headers(self.task_id))

    def test_header_names_are_case_insensitive(self):
        headers = {k.lower(): v for k, v in signed_headers(self.task_id).items()}
        verify_signature(key=KEY, task_id=self.task_id, headers=headers)

    @pytest.mark.parametrize(
        ("headers", "reason"),
        [
            ({}, "not signed"),
            ({"X-Webhook-Timestamp": "soon", "X-Webhook-Signature": "x"}, "not a number"),
        ],
    )
    def test_missing_or_malformed_headers_fail(self, headers, reason):
        with pytest.raises(BadSignature, match=reason):
            verify_signature(key=KEY, task_id=self.task_id, headers=headers)

    def test_a_signature_made_with_another_key_fails(self):
        headers = signed_headers(self.task_id, key="another-key")
        with pytest.raises(BadSignature, match="does not match"):
            verify_signature(key=KEY, task_id=self.task_id, headers=headers)

    def test_a_signature_for_another_task_fails(self):
        headers = signed_headers("task_other")
        with pytest.raises(BadSignature, match="does not match"):
            verify_signature(key=KEY, task_id=self.task_id, headers=headers)

    def test_a_stale_timestamp_fails_even_with_a_good_signature(self):
        headers = signed_headers(self.task_id, at=time.time() - 301)
        with pytest.raises(BadSignature, match="more than 5 minutes"):
            verify_signature(key=KEY, task_id=self.task_id, headers=headers)
        fresh_enough = signed_headers(self.task_id, at=time.time() - 290)
        verify_signature(key=KEY, task_id=self.task_id, headers=fresh_enough)

    def test_a_timestamp_from_the_future_fails(self):
        headers = signed_headers(self.task_id, at=time.time() + 600)
        with pytest.raises(BadSignature):
            verify_signature(key=KEY, task_id=self.task_id, headers=headers)

    def test_the_signature_is_base64_hmac_sha256_of_id_dot_timestamp(self):
        # Computed independently with openssl:
        #   echo -n 'task_1.1700000000' | openssl dgst -sha256 -hmac k -binary | base64
        assert sign("k", "task_1", "1700000000") == "Nw5I95q8kb5C7+X6vNbQDOZ0Ag3wu9DVExZIxzoW4sM="


class TestParsingCallbacks:
    def test_kie_accepts_task_id_spelled_either_way(self):
        status = client("kie").parse_callback(json.dumps(KIE_SUCCESS), {})
        assert status.task_id == "task_flux-2_1765175490366"
        assert status.state is TaskState.SUCCEEDED
        assert [r.url for r in status.results] == ["https://tempfile.example/abc.png"]
        camel = {**KIE_SUCCESS, "data": {**KIE_SUCCESS["data"], "taskId": "task_x"}}
        del camel["data"]["task_id"]
        assert client("kie").callback_task_id(json.dumps(camel)) == "task_x"

    def test_kie_checks_the_signature_when_the_credential_has_a_key(self):
        body = json.dumps(KIE_SUCCESS)
        task_id = "task_flux-2_1765175490366"
        signed = client("kie", hmac_key=KEY)
        assert signed.parse_callback(body, signed_headers(task_id)).state is TaskState.SUCCEEDED
        with pytest.raises(BadSignature):
            signed.parse_callback(body, {})
        with pytest.raises(BadSignature):
            signed.parse_callback(body, signed_headers(task_id, key="forged"))

    def test_liangxin_callbacks_are_kie_shaped(self):
        status = client("liangxin").parse_callback(json.dumps(KIE_SUCCESS), {})
        assert status.state is TaskState.SUCCEEDED

    def test_apixo_success_callback(self):
        status = client("apixo").parse_callback(json.dumps(APIXO_SUCCESS), {})
        assert status.state is TaskState.SUCCEEDED
        assert [r.url for r in status.results] == ["https://example.com/result.jpg"]
        assert status.finished_at.year == 2023

    def test_apixo_failure_callback_with_code_400_is_a_failed_task_not_a_bad_request(self):
        status = client("apixo").parse_callback(json.dumps(APIXO_FAILURE), {})
        assert status.state is TaskState.FAILED
        assert status.error_class is ErrorClass.CONTENT_POLICY
        assert status.code == "CONTENT_VIOLATION"
        assert status.message == "Content does not meet safety guidelines"

    def test_apimart_sends_no_callbacks(self):
        with pytest.raises(CallbacksNotSupported):
            client("apimart").parse_callback(b"{}", {})

    @pytest.mark.parametrize("body", [b"not json", b"[]", b'{"data": {}}', b'{"code": 200}'])
    def test_a_callback_without_a_readable_task_is_refused(self, body):
        with pytest.raises(ValidationFailed):
            client("kie").parse_callback(body, {})


@pytest.fixture
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.received = queue.Queue()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_the_sandbox_sends_a_signed_kie_callback(make_client, sandbox, receiver):
    sandbox.config.hmac_key = KEY
    url = f"http://127.0.0.1:{receiver.server_address[1]}/callbacks/1/secret/"
    task_id = (
        make_client("kie")
        .create(GenerationRequest(model=Model.PRO, prompt="a fox at dawn", callback_url=url))
        .task_id
    )

    headers, body = receiver.received.get(timeout=10)

    status = make_client("kie", hmac_key=KEY).parse_callback(body, headers)
    assert status.task_id == task_id
    assert status.state is TaskState.SUCCEEDED
    assert status.results


def test_apixo_failure_callbacks_read_the_same_in_either_documented_shape(make_client, receiver):
    url = f"http://127.0.0.1:{receiver.server_address[1]}/cb"
    request = GenerationRequest(
        model=Model.FLEX, prompt="x [sandbox:content_violation]", callback_url=url
    )
    make_client("apixo").create(request)
    make_client("apixo").create(request)
    codes = set()
    for _ in range(2):
        headers, body = receiver.received.get(timeout=10)
        codes.add(json.loads(body)["code"])
        status = make_client("apixo").parse_callback(body, headers)
        assert status.error_class is ErrorClass.CONTENT_POLICY
    assert codes == {200, 400}


def test_a_missed_callback_can_be_simulated(make_client, sandbox, receiver):
    url = f"http://127.0.0.1:{receiver.server_address[1]}/cb"
    client = make_client("liangxin")
    task_id = client.create(
        GenerationRequest(model=Model.PRO, prompt="x [sandbox:no_callback]", callback_url=url)
    ).task_id
    time.sleep(sandbox.config.duration + 0.5)
    assert receiver.received.empty()
    assert client.status(task_id).state is TaskState.SUCCEEDED
