"""A client that hangs up while its request waits for images frees its place at once:
under gunicorn, as the site runs, the token's limit of requests waiting at once counts only
clients still there, and the job goes on to the gallery."""

import json
import socket
import subprocess
import sys

import pytest

from flux2web.api.models import ApiWait
from flux2web.jobs.models import Job
from tests.core.helpers import answers, free_port
from tests.helpers import ROOT, subprocess_env, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def web(tmp_path, media):
    """The web process alone (gunicorn with our configuration, as the Procfile starts it):
    no worker, so a request's job waits for as long as the test likes."""
    port = free_port()
    log = tmp_path / "web.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "flux2web.wsgi:application",
         "--config", "python:flux2web.lib.gunicorn_conf", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT, env=subprocess_env(), stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    wait_for(lambda: answers(f"http://127.0.0.1:{port}/healthz"), timeout=30,
             message=log.read_text)  # fmt: skip
    yield port
    proc.kill()
    proc.wait()


def test_a_client_that_hangs_up_while_waiting_frees_its_place_and_loses_nothing(
    web, owner, provider, make_token
):
    _, raw = make_token(owner)
    body = json.dumps({"model": "flux-2-pro", "prompt": "a heron at dawn"}).encode()
    head = (
        f"POST /v1/images/generations HTTP/1.1\r\nHost: 127.0.0.1:{web}\r\n"
        f"Authorization: Bearer {raw}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    client = socket.create_connection(("127.0.0.1", web))
    client.sendall(head + body)
    wait_for(lambda: ApiWait.objects.exists(), timeout=20)  # it waits for its image

    client.close()

    wait_for(lambda: not ApiWait.objects.exists(), timeout=5)
    job = Job.objects.get(owner=owner)
    assert job.state not in Job.FINAL  # still on its way to the gallery


def test_a_connection_reads_as_left_only_once_its_client_closed_it():
    from django.test import RequestFactory

    from flux2web.lib.holding import client_left

    ours, theirs = socket.socketpair()
    request = RequestFactory().post("/v1/images/generations")
    assert not client_left(request)  # another server: never known
    request.META["gunicorn.socket"] = ours
    assert not client_left(request)  # there, and quiet
    theirs.sendall(b"GET / HTTP/1.1\r\n")
    assert not client_left(request)  # there, and saying more
    ours.recv(100)
    theirs.close()
    assert client_left(request)
    ours.close()
