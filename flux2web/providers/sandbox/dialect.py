"""What the sandbox asks of each dialect it serves. One instance per mount (the path the
dialect is served at); each dialect's folder subclasses it with how its vendor validates
a create, answers, says no, fails a task and calls back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from flux2web.providers.sandbox.server import Sandbox, Task


class Invalid(Exception):
    """A request the vendor would refuse; `status` is the HTTP status the dialect uses."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.message = message
        self.status = status


class SandboxDialect:
    # The catalog's name for what this mount speaks.
    dialect = ""
    create_path = ""
    # The vendor's own limit on new tasks per account, which the sandbox enforces (config
    # `create_limit` may change it); None: it refuses none.
    create_limit: tuple[int, int] | None = None
    # Whether a refusal for too many requests says when to retry (Retry-After: 1 s unless
    # the injected fault says otherwise).
    sends_retry_after = True
    # Whether the vendor's answers say what a task cost (a profile's `price` sets it).
    reports_cost = False

    def __init__(self, mount: str = ""):
        self.mount = mount or self.dialect

    def __repr__(self):
        return f"<{type(self).__name__} /{self.mount}>"

    # The wire: every dialect says these its own way.
    def validate(self, body: dict) -> dict:
        """What the create asks for, as {"model", "prompt", "size", "seed", "refs",
        "callback", "auto"}; raises Invalid as the vendor would refuse it."""
        raise NotImplementedError

    def status_task_id(self, rest: str, query: dict) -> str | None:
        """The task a status read is about, or None when `rest` is not the status path."""
        raise NotImplementedError

    def error_answer(self, status: int, message: str) -> tuple[int, dict]:
        """(HTTP status, body) of a refusal, in the dialect's envelope."""
        raise NotImplementedError

    def create_answer(self, task: Task) -> dict:
        raise NotImplementedError

    def status_answer(self, task: Task, sandbox: Sandbox, host: str) -> dict:
        raise NotImplementedError

    def callback_body(self, task: Task, sandbox: Sandbox) -> dict:
        raise NotImplementedError(f"{self.dialect} sends no callbacks")

    # Where vendors differ from the common case.
    def unknown_task(self, task_id: str) -> tuple[int, dict]:
        return self.error_answer(404, f"Task {task_id} not found")

    def over_limit_answer(self) -> tuple[int, dict]:
        count, seconds = self.create_limit or (0, 0)
        return self.error_answer(
            429, f"Rate limit exceeded: at most {count} new tasks per {seconds} seconds."
        )

    def content_failure(self, faults: set[str]) -> tuple[str, str]:
        """(failCode, failMsg) of a task whose prompt was refused as unsafe."""
        return "400", "The prompt was flagged as sensitive content by the safety system."

    def refuses_reference(self, content: bytes, kind: str | None) -> str:
        """Why the vendor would not take this reference image ('' when it would)."""
        return ""

    def callback_headers(self, task: Task, hmac_key: str) -> dict:
        return {}


def is_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def ms(seconds: float) -> int:
    return int(seconds * 1000)


def spoil(task: Task, data: dict, time_field: str) -> None:
    """Put a time no parser should take where the task's faults ask for one."""
    if "bad_time" in task.faults:
        data[time_field] = 1e20
    elif "inf_time" in task.faults:
        data[time_field] = float("inf")  # json.dumps writes it as the bare word Infinity
