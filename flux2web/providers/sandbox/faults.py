"""The faults the sandbox can inject, named once: by prompt tag for one task, or through
`inject` (POST /_sandbox/faults) for the next calls."""

from __future__ import annotations

import re

FAULT_TAG = re.compile(r"\[sandbox:([a-z0-9_]+)(?:=([0-9.]+))?\]", re.IGNORECASE)
# What a create can meet. A prompt's tags are answered in this order before the task is
# made, except the last three: "late" and "lost" come after (the task exists, and its
# answer comes `slow_seconds` late, or never) and "401" is only ever injected (a request
# that reaches the prompt had a good key).
CREATE_FAULTS = (
    "429",
    "455",
    "402",
    "433",
    "400",
    "403_content",
    "403_key",
    "505",
    "413",
    "422",
    "500",
    "401_echo",
    "slow",
    "drop",
    "late",
    "lost",
    "401",
)
TAGGED_BEFORE_CREATE = CREATE_FAULTS[:-3]
# Create faults that come once the task is made (injected too, for the next creates).
AFTER_CREATE = ("late", "lost")
# Tags that end a task some way other than with its image, or leave it running.
TASK_FAULTS = {
    "content_violation",
    "sensitive_content",
    "fail",
    "never",
    "no_callback",
    "insufficient_credits",
    "cancelled",
}
# Task faults that end a task without an image.
FAILING = {"content_violation", "sensitive_content", "fail", "insufficient_credits", "cancelled"}
# Status answers a careless provider might give: times out of range or not numbers at all,
# `resultJson` nested past any parser's depth, a whole body nested so, or no JSON at all.
ANSWER_FAULTS = {"bad_time", "inf_time", "deep_result", "deep_body", "not_json"}
DEEP = 60_000

# The status and words of each refusal; each dialect wraps them in its own envelope.
FAULT_ANSWERS = {
    "429": (429, "Too many requests: rate limit exceeded"),
    "455": (455, "Service under maintenance"),
    "402": (402, "Insufficient credits"),
    "500": (500, "Internal server error"),
    "401": (401, "Invalid API key"),
    # A KIE sub-key's hourly, daily or total cap is used up.
    "433": (433, "The usage limit of this API key has been reached"),
    "400": (400, "Missing required field: input.prompt"),
    # Apixo's errors page: 403 is "Content violates policy"; elsewhere "API key lacks
    # permission". Same status, two meanings: only the words tell them apart.
    "403_content": (403, "Content violates policy"),
    "403_key": (403, "API key lacks permission"),
    # KIE: a feature switched off for the account; LiangXin (new-api): a body too large,
    # and the upstream model's own validation.
    "505": (505, "This feature is currently disabled"),
    "413": (413, "Request body too large"),
    "422": (422, "Upstream validation failed: input.prompt is not acceptable"),
}


def echo_answer(key: str) -> tuple[int, dict]:
    """A provider that repeats the key it was sent in its refusal, as some gateways do."""
    return 401, {"code": 401, "msg": f"Invalid API key provided: {key}", "data": None}
