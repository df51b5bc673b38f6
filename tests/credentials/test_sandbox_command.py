"""`manage.py sandbox` runs the sandbox as its own process; --register sets up a fresh install."""

import socket
import subprocess
import sys

import httpx
import pytest

from flux2web.credentials.models import ProviderCredential
from flux2web.credentials.services import check_credential, register_sandbox
from flux2web.providers.types import GenerationRequest, Model
from tests.helpers import ROOT, subprocess_env, wait_for


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_it_serves_all_dialects_and_registers_them_on_a_fresh_install(tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "sandbox", "--port", str(port), "--register",
         "--duration", "0.2"],
        env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"

        def answers():
            try:
                return httpx.get(url, timeout=1).json()
            except httpx.TransportError:
                return None

        info = wait_for(answers, timeout=20)
        assert info["dialects"] == ["kie", "apikley", "liangxin", "apixo", "apimart"]
        credentials = list(ProviderCredential.objects.order_by("priority"))
        assert [c.dialect for c in credentials] == ["kie", "liangxin", "apixo", "apimart"]
        for credential in credentials:
            assert check_credential(credential).ok
            with credential.client() as client:
                task_id = client.create(GenerationRequest(model=Model.PRO, prompt="a fox")).task_id
                status = wait_for(
                    lambda c=client, t=task_id: (s := c.status(t)).state.is_final and s
                )
                assert status.results
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.django_db
def test_registering_happens_only_when_there_is_no_provider_at_all():
    assert len(register_sandbox("http://127.0.0.1:8001")) == 4
    assert register_sandbox("http://127.0.0.1:8001") == []
    ProviderCredential.objects.filter(dialect="kie").delete()
    assert register_sandbox("http://127.0.0.1:8001") == []
    assert ProviderCredential.objects.count() == 3
