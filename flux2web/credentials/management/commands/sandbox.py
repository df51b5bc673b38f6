"""Run the sandbox provider: all four dialects on one local port, no key or money needed."""

import signal

from django.core.management.base import BaseCommand, CommandError

from flux2web.credentials.services import register_sandbox
from flux2web.providers.sandbox import DEFAULT_API_KEY, Sandbox, SandboxConfig


class Command(BaseCommand):
    help = "Serve the sandbox provider (kie, apikley, liangxin, apixo, apimart) on one port."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument(
            "--duration", type=float, default=6.0, help="Seconds from create to result."
        )
        parser.add_argument("--url-ttl", type=float, default=24 * 3600)
        parser.add_argument("--api-key", action="append", help="Accepted key (repeatable).")
        parser.add_argument("--hmac-key", default="", help="Sign KIE callbacks with this key.")
        parser.add_argument(
            "--create-limit",
            default="20/10",
            metavar="TASKS/SECONDS|none",
            help="New tasks each key may create on /kie and /apikley (KIE's documented "
            "limit by default); the rest are refused with 429.",
        )
        parser.add_argument(
            "--register",
            action="store_true",
            help="On a fresh install, add it as one provider per dialect.",
        )

    def handle(
        self,
        *args,
        host,
        port,
        duration,
        url_ttl,
        api_key,
        hmac_key,
        register,
        create_limit,
        **opts,
    ):
        keys = frozenset(api_key or [DEFAULT_API_KEY])
        config = SandboxConfig(
            api_keys=keys,
            duration=duration,
            url_ttl=url_ttl,
            hmac_key=hmac_key,
            create_limit=self._limit(create_limit),
        )
        try:
            sandbox = Sandbox(host, port, config)
        except (OSError, OverflowError) as exc:  # a port out of range, a host unknown or taken
            raise CommandError(f"Cannot listen on {host}:{port}: {exc}.") from None
        if register:
            for credential in register_sandbox(sandbox.url, api_key=sorted(keys)[0]):
                self.stdout.write(f"Registered {credential.name} at {credential.base_url}")
        self.stdout.write(f"Sandbox provider listening on {sandbox.url} (Ctrl+C stops it)")
        # SIGTERM (from `up`, or a process manager) stops it like Ctrl+C. Calling
        # server.shutdown() here instead would wait forever for the loop this thread runs.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            sandbox.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            sandbox.server.server_close()

    def _limit(self, text: str) -> tuple[int, float] | None:
        if text.strip().lower() in ("none", "0", "off"):
            return None
        count, _, seconds = text.partition("/")
        try:
            limit = int(count), float(seconds)
        except ValueError:
            raise CommandError(
                f"--create-limit takes TASKS/SECONDS or none, not {text!r}."
            ) from None
        if limit[0] < 1 or limit[1] <= 0:
            raise CommandError("--create-limit needs at least 1 task per a positive time.")
        return limit
