"""The throwaway dialect's client: POST /make, GET /make/{id}, errors as {"error": ...}."""

from flux2web.providers.base import DialectClient, error_from_code, images, json_body
from flux2web.providers.types import Submission, TaskState, TaskStatus

STATES = {
    "queued": TaskState.QUEUED,
    "running": TaskState.RUNNING,
    "done": TaskState.SUCCEEDED,
    "failed": TaskState.FAILED,
}


class ThrowawayClient(DialectClient):
    dialect = "throwaway"

    def create_path(self):
        return "/make"

    def status_path(self, task_id):
        return f"/make/{task_id}"

    def build_payload(self, request, caps):
        payload = {"prompt": request.prompt.strip(), "ratio": request.aspect_ratio or "5:4"}
        if finish := request.options.get("finish"):
            payload["finish"] = finish
        return payload

    def parse_create(self, response):
        body = json_body(response)
        if response.status != 200:
            raise error_from_code(response.status, str(body.get("error")), raw=body)
        return Submission(task_id=str(body["id"]), raw=body)

    def parse_status(self, response, task_id):
        body = json_body(response)
        if response.status != 200:
            raise error_from_code(response.status, str(body.get("error")), raw=body)
        state = STATES[body["state"]]
        return TaskStatus(
            task_id=task_id,
            state=state,
            provider_state=body["state"],
            results=images(body.get("urls", [])),
            raw=body,
        )
