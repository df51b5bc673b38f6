"""`manage.py up` runs web and worker together; Ctrl+C, or one of them dying, stops all."""

import os
import signal
from pathlib import Path

import httpx
import pytest

from flux2web.credentials.models import ProviderCredential
from tests.core.helpers import answers, start_up
from tests.helpers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def children_of(pid: int) -> set[int]:
    return {int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def descendants(pid: int) -> set[int]:
    found = set()
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        found |= {int(child), *descendants(int(child))}
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.fixture
def up(tmp_path):
    proc, port = start_up(tmp_path)
    yield proc, port
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_it_serves_the_app_and_ctrl_c_stops_every_process(up):
    proc, port = up
    response = httpx.get(f"http://127.0.0.1:{port}/")
    assert response.status_code == 302
    assert response.headers["location"] == "/accounts/login/?next=/"
    children = wait_for(lambda: len(descendants(proc.pid)) >= 4 and descendants(proc.pid))
    commands = " ".join(Path(f"/proc/{pid}/cmdline").read_text() for pid in children)
    assert "gunicorn" in commands
    assert "qcluster" in commands
    assert "sandbox" in commands
    # The sandbox answers, and a fresh install has it as one provider per dialect.
    sandbox = f"http://127.0.0.1:{proc.sandbox_port}"
    wait_for(lambda: answers(sandbox), timeout=10)
    assert sorted(ProviderCredential.objects.values_list("dialect", flat=True)) == [
        "apimart", "apixo", "kie", "liangxin",
    ]  # fmt: skip
    assert ProviderCredential.objects.get(dialect="kie").base_url == f"{sandbox}/kie"
    # The worker reports in as soon as it starts, so the studio shows no false alarm.
    wait_for(
        lambda: httpx.get(f"http://127.0.0.1:{port}/healthz").json()["worker"] == "ok",
        timeout=15,
    )

    proc.send_signal(signal.SIGINT)

    assert proc.wait(timeout=30) == 0
    wait_for(lambda: not any(alive(pid) for pid in children), timeout=10)


def test_when_one_process_dies_the_others_are_stopped(up):
    proc, _port = up
    children = descendants(proc.pid)
    # The gunicorn master (a direct child, leading its own process group), not a worker.
    web = next(
        p for p in children_of(proc.pid) if b"gunicorn" in Path(f"/proc/{p}/cmdline").read_bytes()
    )
    os.killpg(web, signal.SIGKILL)

    assert proc.wait(timeout=30) == 1
    wait_for(lambda: not any(alive(pid) for pid in children), timeout=10)
