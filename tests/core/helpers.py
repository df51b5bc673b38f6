"""Starting the app as bin/run does, for the tests of `manage.py up` and of its safety."""

import socket
import subprocess
import sys

import httpx

from tests.helpers import ROOT, subprocess_env, wait_for


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def start_up(tmp_path, *, web_workers=1):
    """`manage.py up` as bin/run starts it (web, worker, sandbox), everything it and its
    children write in tmp_path/up.log."""
    port, sandbox_port = free_port(), free_port()
    log = (tmp_path / "up.log").open("wb")
    command = ["up", "--port", str(port), "--web-workers", str(web_workers)]
    command += ["--sandbox-port", str(sandbox_port)]
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), *command],
        env=subprocess_env(FLUX2WEB_QUEUE_NAME=f"up-{port}"),
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    healthz = f"http://127.0.0.1:{port}/healthz"
    wait_for(
        lambda: answers(healthz), timeout=30, message=lambda: (tmp_path / "up.log").read_text()
    )
    proc.sandbox_port = sandbox_port
    return proc, port
