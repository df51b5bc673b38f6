"""How the sandbox stands in for the throwaway dialect's vendor, under /throwaway."""

import time

from flux2web.providers.sandbox.dialect import Invalid, SandboxDialect
from tests.providers.throwaway_dialect.capabilities import RATIOS, SIZES


class ThrowawaySandbox(SandboxDialect):
    dialect = "throwaway"
    create_path = "/make"

    def validate(self, body):
        prompt, ratio = body.get("prompt"), body.get("ratio")
        if not isinstance(prompt, str) or not prompt:
            raise Invalid("prompt is required", status=400)
        if ratio not in RATIOS:
            raise Invalid(f"ratio must be one of {', '.join(RATIOS)}", status=400)
        return {"model": "pro", "prompt": prompt, "size": SIZES[ratio], "seed": None,
                "refs": [], "callback": None, "auto": False}  # fmt: skip

    def status_task_id(self, rest, query):
        return rest.removeprefix("/make/") if rest.startswith("/make/") else None

    def error_answer(self, status, message):
        return status, {"error": message}

    def create_answer(self, task):
        return {"id": task.id}

    def status_answer(self, task, sandbox, host):
        phase = task.phase(time.time())[0]
        state = {"pending": "queued", "running": "running", "success": "done", "fail": "failed"}[
            phase
        ]
        urls = [sandbox.file_url(host, task)[0]] if phase == "success" else []
        return {"state": state, "urls": urls}
