"""Run every Flux2Web process on this machine together (web, worker, sandbox); Ctrl+C stops all."""

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from flux2web.credentials.services import register_sandbox
from flux2web.providers.sandbox.profile import BUILT_IN, load

STOP_GRACE_SECONDS = 20


def _die_with_parent():  # pragma: no cover - runs in the child between fork and exec
    # If this supervisor is killed outright, the kernel sends SIGTERM to its children
    # too, so no web server or worker outlives it holding the port or the queue.
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Command(BaseCommand):
    help = "Start the web server and the task worker together (the README's run command)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument(
            "--sandbox-port",
            type=int,
            default=8001,
            help="Port of the built-in sandbox provider; 0 runs without it.",
        )
        parser.add_argument(
            "--sandbox-profile",
            metavar="PROFILE",
            help="Each sandbox provider's speed, failure rate and price (the sandbox "
            "command's --profile; default: FLUX2WEB_SANDBOX_PROFILE, else a built-in one in "
            "which the four differ; none: all alike and never failing).",
        )

    def processes(self, *, host, port, web_workers, sandbox_port, sandbox_profile="none"):
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        sandbox = None
        if sandbox_port:
            sandbox = [*manage, "sandbox", "--port", str(sandbox_port)]
            sandbox += ["--profile", sandbox_profile]
        return {
            "web": [
                sys.executable,
                "-m",
                "gunicorn",
                "flux2web.wsgi:application",
                # The Procfile's settings: its logs redacted the same way.
                "--config",
                "python:flux2web.lib.gunicorn_conf",
                "--bind",
                f"{host}:{port}",
                "--workers",
                str(web_workers),
                "--graceful-timeout",
                "5",
            ],
            "worker": [*manage, "qcluster"],
            **({"sandbox": sandbox} if sandbox else {}),
        }

    def handle(self, *args, host, port, web_workers, sandbox_port, sandbox_profile=None, **opts):
        # Checked before anything starts: a bad profile stops here, naming its bad part.
        profile = "none"
        if sandbox_port:
            try:
                profile, _ = load(
                    sandbox_profile, os.environ, default=BUILT_IN, option_name="--sandbox-profile"
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from None
        if sandbox_port:
            # A fresh install gets the sandbox as its providers, so the first generation
            # needs no key; any install that has providers keeps exactly those.
            for credential in register_sandbox(f"http://127.0.0.1:{sandbox_port}"):
                self.stdout.write(f"Registered sandbox provider {credential.name}")
        preexec = _die_with_parent if sys.platform.startswith("linux") else None
        env = dict(os.environ)
        if sandbox_port:
            # The sandbox's result links are on loopback, which mirroring refuses by default;
            # allow exactly that one address, nothing else private.
            env.setdefault("FLUX2WEB_ALLOW_PRIVATE_URLS", f"127.0.0.1:{sandbox_port}")
        children = {}
        plan = self.processes(
            host=host,
            port=port,
            web_workers=web_workers,
            sandbox_port=sandbox_port,
            sandbox_profile=profile,
        )
        for name, argv in plan.items():
            # A session of their own: Ctrl+C reaches only this supervisor, which then stops
            # each child exactly once and in order.
            children[name] = subprocess.Popen(
                argv, start_new_session=True, preexec_fn=preexec, env=env
            )
        self.stdout.write(f"Flux2Web is running on http://{host}:{port}/ (Ctrl+C stops it)")

        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        failed = None
        while not stop.is_set():
            failed = next((n for n, p in children.items() if p.poll() is not None), None)
            if failed:
                break
            stop.wait(0.5)
        if failed:
            self.stderr.write(
                f"{failed} exited with status {children[failed].returncode}; stopping the rest."
            )
        self.stop_all(children)
        if failed:
            sys.exit(1)

    def stop_all(self, children):
        for proc in children.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for name, proc in children.items():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} did not stop in {STOP_GRACE_SECONDS}s; killing it.")
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.stdout.write("Flux2Web stopped.")
