"""The sandbox provider: a real local HTTP server speaking every registered dialect on one port.

Each dialect's folder says how the sandbox stands in for it (its `sandbox.py`) and where it
is mounted: /kie, /apikley (KIE's dialect with Apikley's required fields), /liangxin,
/apixo and /apimart. It validates requests as the vendors document, moves tasks through
each dialect's own state names, renders PNGs with Pillow, serves them at expiring URLs,
sends callbacks (KIE's signed when an HMAC key is set) and injects faults on request.
Like the live vendors, KIE's mounts answer every error inside HTTP 200, say "recordInfo
is null" (code 422) about unknown tasks, refuse a key's 21st create in 10 s with 429
(config `create_limit`, on by default) and word their callbacks as KIE does.


- per task, by a tag in the prompt: `[sandbox:429]`, `[sandbox:455]`, `[sandbox:402]`,
  `[sandbox:500]`, `[sandbox:slow]`, `[sandbox:drop]` (connection closed, no task),
  `[sandbox:lost]` (task made, answer lost), `[sandbox:late]` (task made, answer
  `slow_seconds` late, after its callback), `[sandbox:content_violation]`,
  `[sandbox:fail]`, `[sandbox:never]`, `[sandbox:no_callback]`, `[sandbox:duration=S]`,
  `[sandbox:401_echo]` (401 repeating the key it was sent), `[sandbox:433]` (a key's
  usage cap), `[sandbox:400]` (Apixo's `data.error` detail), `[sandbox:403_content]`,
  `[sandbox:403_key]` (Apixo's two 403s), `[sandbox:insufficient_credits]`;
- per task, status answers that cannot be read as they should: `[sandbox:bad_time]`
  (completeTime 1e20), `[sandbox:inf_time]` (Infinity), `[sandbox:deep_result]`
  (resultJson nested 60,000 deep), `[sandbox:deep_body]`, `[sandbox:not_json]`;
- for the next calls, by POST /_sandbox/faults {"fault", "dialect", "on", "times",
  "retry_after"}; GET /_sandbox/stats counts calls; POST /_sandbox/config and
  /_sandbox/reset change timing and clear state; config `echo_key` makes every refused
  key come back in the refusal;
- per mount, by a profile (profile.py): its own speed, failure rate and class, and price.
"""

from flux2web.providers.sandbox.render import render_png
from flux2web.providers.sandbox.server import (
    DEFAULT_API_KEY,
    Sandbox,
    SandboxConfig,
    Task,
    callback_body,
    mounts,
)

__all__ = [
    "DEFAULT_API_KEY",
    "Sandbox",
    "SandboxConfig",
    "Task",
    "callback_body",
    "mounts",
    "render_png",
]
