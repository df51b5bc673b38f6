"""What the live vendors do beyond the seed pages (../shared/providers.md), as the sandbox
imitates it and the dialect clients read it, over real sockets."""

import json
import queue
import threading
import time
from http.server import ThreadingHTTPServer

import pytest

from flux2web.providers.types import (
    AuthError,
    ContentPolicy,
    ErrorClass,
    GenerationRequest,
    InsufficientCredits,
    KeyCapReached,
    Maintenance,
    Model,
    ProviderFailure,
    RateLimited,
    TaskState,
    TaskUnknown,
    ValidationFailed,
)
from tests.providers.helpers import Receiver, follow


def tagged(tag, model=Model.PRO):
    return GenerationRequest(model=model, prompt=f"a lighthouse at dusk [sandbox:{tag}]")


class TestKieAnswersErrorsInsideHttp200:
    @pytest.mark.parametrize(
        ("tag", "error"),
        [("402", InsufficientCredits), ("433", KeyCapReached), ("455", Maintenance),
         ("500", ProviderFailure), ("429", RateLimited)],
    )  # fmt: skip
    @pytest.mark.parametrize("mount", ["kie", "apikley"])
    def test_the_body_code_decides_the_error(self, make_client, sandbox, mount, tag, error):
        with pytest.raises(error) as caught:
            make_client(mount).create(tagged(tag))
        assert caught.value.http_status == 200
        assert caught.value.code == tag
        assert sandbox.snapshot().get(f"tasks_created:{mount}", 0) == 0

    def test_a_used_up_key_cap_is_its_own_class(self, make_client):
        with pytest.raises(KeyCapReached) as caught:
            make_client("kie").create(tagged("433"))
        assert caught.value.error_class is ErrorClass.KEY_CAP
        # Not a refusal another try would get past: routing switches the key off.
        assert not caught.value.refused_before_acceptance

    @pytest.mark.parametrize("mount", ["kie", "apikley"])
    def test_an_unknown_task_is_recordinfo_is_null(self, make_client, sandbox, mount):
        with pytest.raises(TaskUnknown) as caught:
            make_client(mount).status("task_the_vendor_forgot")
        assert caught.value.http_status == 200
        assert "no record of task task_the_vendor_forgot" in caught.value.message

    def test_a_key_check_still_passes_on_recordinfo_is_null(self, make_client):
        make_client("kie").check_key()  # no exception: the key works


class TestKieCreateLimit:
    def test_the_sandbox_refuses_the_21st_create_in_10_seconds_and_does_not_queue_it(
        self, make_client, sandbox
    ):
        client = make_client("kie")
        for _ in range(20):
            client.create(tagged("no_callback"))
        with pytest.raises(RateLimited) as caught:
            client.create(tagged("no_callback"))
        assert caught.value.http_status == 200
        assert caught.value.code == "429"
        stats = sandbox.snapshot()
        assert stats["tasks_created:kie"] == 20
        assert stats["rate_refused:kie"] == 1

    def test_the_window_slides(self, make_client, sandbox):
        sandbox.config.create_limit = (2, 0.5)
        client = make_client("apikley")
        client.create(tagged("no_callback"))
        client.create(tagged("no_callback"))
        with pytest.raises(RateLimited):
            client.create(tagged("no_callback"))
        time.sleep(0.55)
        client.create(tagged("no_callback"))
        assert sandbox.snapshot()["tasks_created:apikley"] == 3

    def test_the_limit_is_per_account_and_kie_only(self, make_client, sandbox):
        sandbox.config.create_limit = (1, 10)
        make_client("kie").create(tagged("no_callback"))
        make_client("apikley").create(tagged("no_callback"))  # another vendor's account
        make_client("apixo").create(tagged("no_callback"))
        make_client("apixo").create(tagged("no_callback"))
        assert sandbox.snapshot().get("rate_refused:kie", 0) == 0


class TestApixo:
    def test_a_403_about_content_is_a_content_refusal_not_a_bad_key(self, make_client):
        with pytest.raises(ContentPolicy) as caught:
            make_client("apixo").create(tagged("403_content"))
        assert caught.value.http_status == 403
        assert "Content violates policy" in caught.value.message

    def test_a_403_about_permission_is_the_keys_fault(self, make_client):
        with pytest.raises(AuthError) as caught:
            make_client("apixo").create(tagged("403_key"))
        assert "API key lacks permission" in caught.value.message

    def test_the_400_detail_in_data_error_is_kept(self, make_client):
        with pytest.raises(ValidationFailed) as caught:
            make_client("apixo").create(tagged("400"))
        assert caught.value.message == "Invalid request: Missing required field: input.prompt"

    def test_a_task_failing_for_insufficient_credits_is_a_credit_problem(self, make_client):
        client = make_client("apixo")
        task_id = client.create(tagged("insufficient_credits")).task_id
        status, _ = follow(client, task_id)
        assert status.state is TaskState.FAILED
        assert status.code == "INSUFFICIENT_CREDITS"
        assert status.error_class is ErrorClass.CREDITS


@pytest.fixture
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.received = queue.Queue()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/cb", server.received
    server.shutdown()
    server.server_close()


class TestKieCallbacksAsSent:
    def callbacks(self, make_client, receiver, prompts):
        url, received = receiver
        client = make_client("kie")
        for prompt in prompts:
            client.create(GenerationRequest(model=Model.PRO, prompt=prompt, callback_url=url))
        bodies = [received.get(timeout=10) for _ in prompts]
        return client, bodies

    def test_a_failure_says_playground_task_failed_with_resultjson_null(
        self, make_client, receiver
    ):
        client, [(headers, raw)] = self.callbacks(make_client, receiver, ["x [sandbox:fail]"])
        body = json.loads(raw)
        assert body["code"] == 501
        assert body["msg"] == "Playground task failed."
        assert body["data"]["resultJson"] is None
        status = client.parse_callback(raw, headers)
        assert status.state is TaskState.FAILED
        assert status.error_class is ErrorClass.GENERATION_FAILED

    def test_both_documented_shapes_name_the_task(self, make_client, receiver):
        client, sent = self.callbacks(make_client, receiver, ["a fox", "a hare"])
        bodies = [json.loads(raw) for _, raw in sent]
        assert {b["msg"] for b in bodies} == {"Playground task completed successfully."}
        # One names it at the top level and as data.task_id, the other as data.taskId.
        assert sum("taskId" in b for b in bodies) == 1
        for headers, raw in sent:
            status = client.parse_callback(raw, headers)
            assert status.state is TaskState.SUCCEEDED
            assert status.task_id.startswith("task_kie_")
            assert status.results
