"""The app started as bin/run starts it is as safe as production: no secret of an address
(share link, invitation, reference upload, callback) in what any of its processes writes,
and password guesses counted across all its web processes."""

import os
import re
import secrets
import signal
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from flux2web.accounts import api_tokens
from tests.collections.factories import make_collection, make_image
from tests.core.helpers import answers, free_port, start_up
from tests.helpers import ROOT, subprocess_env, wait_for
from tests.links.factories import share

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "open sesame"


@pytest.fixture
def two_web_workers(tmp_path, media):
    proc, port = start_up(tmp_path, web_workers=2)
    yield proc, f"http://127.0.0.1:{port}"
    if proc.poll() is None:
        proc.kill()
        proc.wait()


@pytest.fixture
def locked_link(owner, media, settings):
    # The running app checks passwords with the production hashers, so hash with them.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    collection = make_collection(owner, [make_image(owner), make_image(owner, "second")])
    return share(owner, collection=collection, password=PASSWORD, downloads="original")


def use_the_link(base, link, path):
    """Everything a visitor does with a locked link: open, unlock, look, download."""
    image = link.collection.items.first().image_id
    with httpx.Client(base_url=base, timeout=30) as browser:
        assert browser.get(path).status_code == 200  # the password form
        assert browser.post(path + "unlock", data={"password": "wrong"}).status_code == 403
        assert browser.post(path + "unlock", data={"password": PASSWORD}).status_code == 302
        assert browser.get(path).status_code == 200
        for size in ("thumb", "web", "web?dl=1", "original"):
            assert browser.get(f"{path}i/{image}/{size}").status_code == 200
        assert browser.get(path + "all.zip").status_code == 200
        assert browser.head(path).status_code == 200
        # Answers Django logs as warnings: a 404 and a 405 under the same address.
        assert browser.get(f"{path}i/999999/web").status_code == 404
        assert browser.put(path).status_code == 405


def open_other_secret_addresses(base) -> list[str]:
    """Every other kind of address that holds a secret (an invitation, a reference upload's
    signed link, a provider's callback), opened with made-up secrets; the secrets."""
    invitation, reference, callback = (secrets.token_urlsafe(24) for _ in range(3))
    with httpx.Client(base_url=base, timeout=30) as browser:
        browser.get(f"/accounts/set-password/MQ/cz{invitation[:10]}-{invitation}/")
        browser.get(f"/refs/{reference}:1tX9:{reference}/reference.png")
        browser.post(f"/callbacks/1/{callback}/", content=b"{}")
    return [invitation, reference, callback]


def use_the_api(base, owner) -> list[str]:
    """A script on the API with a live token, sending a good request, a bad one and one with
    a dead token; the tokens."""
    _row, token = api_tokens.token_create(owner=owner, name="script")
    dead = api_tokens.new_token()
    with httpx.Client(base_url=f"{base}/v1", timeout=30) as script:
        live = {"Authorization": f"Bearer {token}"}
        assert script.get("/models", headers=live).status_code == 200
        bad = script.post("/images/generations", headers=live, content=b"{not json")
        assert bad.status_code == 400
        refused = script.get("/models", headers={"Authorization": f"Bearer {dead}"})
        assert refused.status_code == 401
    return [token, dead]


def assert_no_token(written, path, others=()):
    token = path.rstrip("/")[-43:]  # the slug is readable; the token is the secret
    assert len(token) > 20
    assert token not in written
    assert path not in written
    for secret in others:
        assert secret not in written
    # The requests were logged, with the address's secret part replaced.
    assert written.count("/s/<token>") >= 10
    assert written.count("<token>") >= 10 + len(others)


def test_opening_unlocking_and_downloading_a_link_writes_no_token(
    tmp_path, two_web_workers, locked_link, owner
):
    proc, base = two_web_workers
    link, path = locked_link
    use_the_link(base, link, path)
    others = open_other_secret_addresses(base)
    api_tokens_sent = use_the_api(base, owner)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    written = (tmp_path / "up.log").read_text()
    assert_no_token(written, path, others)
    # The API's requests were logged, and no token with them.
    assert written.count("/v1/models") >= 2
    for token in api_tokens_sent:
        assert token not in written and token.removeprefix("f2w_") not in written


def test_the_procfiles_web_process_writes_no_token(tmp_path, locked_link):
    link, path = locked_link
    web = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line[:4] == "web:")
    port = free_port()
    env = subprocess_env(
        PORT=str(port),
        WEB_CONCURRENCY="2",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    )
    with (tmp_path / "web.log").open("wb") as log:
        # As a platform runs a Procfile line: through a shell, from the repository's root.
        proc = subprocess.Popen(
            ["bash", "-c", "exec " + web[4:]], cwd=ROOT, env=env, stdout=log, stderr=log
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(lambda: answers(f"{base}/healthz"), timeout=30)
            use_the_link(base, link, path)
            others = open_other_secret_addresses(base)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    assert_no_token((tmp_path / "web.log").read_text(), path, others)


def test_password_guesses_are_counted_across_web_processes_and_at_once(
    two_web_workers, locked_link
):
    _proc, base = two_web_workers
    _link, path = locked_link
    # Six clients (six loopback addresses), each guessing in two streams of twelve, all at
    # once: each is stopped at its own ten, and all together at the link's ceiling of fifty.
    clients = [f"127.0.0.{n}" for n in range(2, 8)] * 2

    def guesses(address):
        transport = httpx.HTTPTransport(local_address=address)
        with httpx.Client(base_url=base, transport=transport, timeout=60) as client:
            answers = [
                client.post(path + "unlock", data={"password": f"guess {n}"}).status_code
                for n in range(12)
            ]
        return address, answers

    checked, refused = Counter(), Counter()
    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        for address, answers in pool.map(guesses, clients):
            checked[address] += answers.count(403)
            refused[address] += answers.count(429)
    assert sum(checked.values()) == 50, checked
    assert max(checked.values()) <= 10, checked
    assert sum(refused.values()) == 144 - 50


def test_every_place_that_starts_gunicorn_gives_it_our_configuration():
    """The tests above start two of them; a third added later must not log tokens either."""
    starts = 0
    for path in [ROOT / "Procfile", *ROOT.glob("flux2web/**/*.py"), *ROOT.glob("bench/*.py")]:
        text = path.read_text()
        for match in re.finditer(r"gunicorn\"?,? \"?flux2web\.wsgi|\"-m\",\s*\"gunicorn\"", text):
            starts += 1
            nearby = text[match.start() : match.start() + 400]
            assert "python:flux2web.lib.gunicorn_conf" in nearby, f"{path}: {nearby[:80]}"
    assert starts >= 3
