"""Run the sandbox provider: all four dialects on one local port, no key or money needed."""

import os
import signal

from django.core.management.base import BaseCommand, CommandError

from flux2web.credentials.services import register_sandbox
from flux2web.providers.sandbox import DEFAULT_API_KEY, Sandbox, SandboxConfig
from flux2web.providers.sandbox.profile import load


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
            "--profile",
            metavar="PROFILE",
            help="Each provider's speed, failure rate and price, e.g. "
            "'kie:speed=8±2,fail=0.03/content; apixo:speed=14' (default: "
            "FLUX2WEB_SANDBOX_PROFILE, else none: every one takes --duration and never fails).",
        )
        parser.add_argument(
            "--seed", type=int, help="Make the profile's random draws repeat from run to run."
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
        profile=None,
        seed=None,
        **opts,
    ):
        keys = frozenset(api_key or [DEFAULT_API_KEY])
        config = SandboxConfig(
            api_keys=keys,
            duration=duration,
            url_ttl=url_ttl,
            hmac_key=hmac_key,
            create_limit=self._limit(create_limit),
            profile=self._profile(profile),
            seed=seed,
        )
        try:
            sandbox = Sandbox(host, port, config)
        except (OSError, OverflowError) as exc:  # a port out of range, a host unknown or taken
            raise CommandError(f"Cannot listen on {host}:{port}: {exc}.") from None
        if register:
            for credential in register_sandbox(sandbox.url, api_key=sorted(keys)[0]):
                self.stdout.write(f"Registered {credential.name} at {credential.base_url}")
        self.stdout.write(f"Sandbox provider listening on {sandbox.url} (Ctrl+C stops it)")
        if config.profile:
            self.stdout.write(f"Sandbox profile: {config.profile.describe()}")
        # SIGTERM (from `up`, or a process manager) stops it like Ctrl+C. Calling
        # server.shutdown() here instead would wait forever for the loop this thread runs.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            sandbox.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            sandbox.server.server_close()

    def _profile(self, option):
        try:
            return load(option, os.environ, default="none", option_name="--profile")[1]
        except ValueError as exc:
            raise CommandError(str(exc)) from None

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
