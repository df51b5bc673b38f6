"""The sandbox provider: a real local HTTP server speaking all four dialects on one port.

Mounted under /kie, /apikley (KIE's dialect with Apikley's required fields), /liangxin,
/apixo and /apimart. It validates requests as the vendors document, moves tasks through
each dialect's own state names, renders PNGs with Pillow, serves them at expiring URLs,
sends callbacks (KIE's signed when an HMAC key is set) and injects faults on request:

- per task, by a tag in the prompt: `[sandbox:429]`, `[sandbox:455]`, `[sandbox:402]`,
  `[sandbox:500]`, `[sandbox:slow]`, `[sandbox:drop]` (connection closed, no task),
  `[sandbox:lost]` (task made, answer lost), `[sandbox:content_violation]`,
  `[sandbox:fail]`, `[sandbox:never]`, `[sandbox:no_callback]`, `[sandbox:duration=S]`;
- for the next calls, by POST /_sandbox/faults {"fault", "dialect", "on", "times",
  "retry_after"}; GET /_sandbox/stats counts calls; POST /_sandbox/config and
  /_sandbox/reset change timing and clear state. The fault `401_echo` refuses the key
  and echoes it in the message ("Invalid API key provided: <key>"), as some vendors do.
"""

from flux2web.providers.sandbox.render import render_png
from flux2web.providers.sandbox.server import Sandbox, SandboxConfig, Task
from flux2web.providers.sandbox.wire import DEFAULT_API_KEY, DIALECT_MOUNTS

__all__ = ["DEFAULT_API_KEY", "DIALECT_MOUNTS", "Sandbox", "SandboxConfig", "Task", "render_png"]
