"""`manage.py providers add|list|test|remove` from the shell, never printing a key."""

import io
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from flux2web.credentials.models import ProviderCredential
from tests.helpers import ROOT, subprocess_env

pytestmark = pytest.mark.django_db
KEY = "sandbox-key"


def run(*args, stdin=None):
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:
        sys_stdin, sys.stdin = sys.stdin, io.StringIO(stdin)
    try:
        call_command("providers", *args, stdout=out, stderr=err)
    finally:
        if stdin is not None:
            sys.stdin = sys_stdin
    return out.getvalue(), err.getvalue()


def add(sandbox, name="Sandbox KIE", mount="kie", *extra, key=KEY):
    dialect = "kie" if mount == "apikley" else mount
    return run("add", "--name", name, "--dialect", dialect, "--base-url",
               sandbox.base_url(mount), "--api-key", key, *extra)  # fmt: skip


def test_add_stores_the_credential_and_shows_only_the_last_four(sandbox):
    out, _ = add(sandbox, "KIE.ai", "kie", "--priority", "5", "--hmac-key", "whsec-1")
    credential = ProviderCredential.objects.get(name="KIE.ai")
    assert credential.api_key() == KEY
    assert credential.priority == 5 and credential.enabled and credential.has_hmac_key
    assert KEY not in out
    assert "…-key" in out


def test_add_reads_the_key_from_a_file_or_stdin(sandbox, tmp_path):
    key_file = tmp_path / "key.txt"
    key_file.write_text("file-key-1234\n")
    run("add", "--name", "From file", "--dialect", "apixo", "--base-url", sandbox.base_url("apixo"),
        "--api-key-file", str(key_file), "--disabled")  # fmt: skip
    run("add", "--name", "From stdin", "--dialect", "apimart", "--base-url",
        sandbox.base_url("apimart"), "--api-key-file", "-", stdin="stdin-key-5678\n")  # fmt: skip
    assert ProviderCredential.objects.get(name="From file").api_key() == "file-key-1234"
    assert not ProviderCredential.objects.get(name="From file").enabled
    assert ProviderCredential.objects.get(name="From stdin").api_key() == "stdin-key-5678"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--api-key", "k", "--api-key-file", "f"], "not both"),
        ([], "An API key is required"),
        (["--api-key", "   "], "api_key: The API key is empty."),
        (["--api-key", "k", "--api-key-file", "/nonexistent"], "not both"),
        (["--api-key-file", "/nonexistent/key"], "Cannot read the api-key from /nonexistent/key"),
    ],
)
def test_add_refuses_bad_keys_and_adds_nothing(sandbox, args, message):
    with pytest.raises(CommandError, match=message):
        run("add", "--name", "X", "--dialect", "kie", "--base-url", sandbox.base_url("kie"), *args)
    assert ProviderCredential.objects.count() == 0


def test_add_lists_every_bad_field(sandbox):
    add(sandbox, "Taken")
    with pytest.raises(CommandError) as caught:
        run("add", "--name", "taken", "--dialect", "kie", "--base-url", "api.kie.ai",
            "--api-key", "k", "--priority", "-1")  # fmt: skip
    message = str(caught.value)
    assert "Nothing was added" in message
    assert "name: A provider named 'taken' exists already." in message
    assert "base_url: The base URL must start with http:// or https://" in message
    assert "priority: The priority must be between 0 and 1,000,000." in message
    assert ProviderCredential.objects.count() == 1


def test_an_unknown_dialect_is_refused_by_the_parser():
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "providers", "add", "--name", "X",
         "--dialect", "openai", "--base-url", "https://x.test", "--api-key", "k"],
        capture_output=True, text=True, env=subprocess_env(), timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert "invalid choice: 'openai'" in result.stderr


def test_list_never_prints_a_key(sandbox):
    add(sandbox, "Alpha", "kie", key="alpha-secret-9999")
    add(sandbox, "Beta", "liangxin", "--disabled", key="beta-secret-8888")
    out, _ = run("list")
    lines = out.splitlines()
    assert lines[0].split() == [
        "NAME",
        "DIALECT",
        "BASE",
        "URL",
        "PRIORITY",
        "ENABLED",
        "KEY",
        "HMAC",
        "CREATE",
        "LIMIT",
    ]
    assert "Alpha" in lines[1] and "…9999" in lines[1]
    assert lines[1].endswith("20 new tasks per 10 s") and lines[2].endswith("no limit")
    assert "Beta" in lines[2] and " no " in lines[2]
    assert "alpha-secret" not in out and "beta-secret" not in out


def test_list_says_how_to_begin_when_empty():
    out, _ = run("list")
    assert "No providers yet" in out


@pytest.mark.parametrize("mount", ["kie", "apikley", "liangxin", "apixo", "apimart"])
def test_test_says_ok_for_a_good_key(sandbox, mount):
    add(sandbox, "P", mount)
    out, _ = run("test", "p")
    assert out.startswith("ok: P accepted the key")


@pytest.mark.parametrize("mount", ["kie", "liangxin", "apixo", "apimart"])
def test_test_tells_a_refused_key_apart(sandbox, mount):
    add(sandbox, "P", mount, key="wrong-key-0000")
    with pytest.raises(SystemExit) as caught:
        run("test", "P")
    assert caught.value.code == 1


@pytest.mark.django_db(transaction=True)
def test_test_output_for_refused_and_unreachable_in_a_real_shell(sandbox):
    add(sandbox, "Wrong key", "kie", key="wrong-key-0000")
    run("add", "--name", "Nowhere", "--dialect", "kie", "--base-url", "http://127.0.0.1:9",
        "--api-key", "k")  # fmt: skip
    env = subprocess_env()
    refused = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "providers", "test", "Wrong key"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    unreachable = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "providers", "test", "Nowhere"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert refused.returncode == 1
    assert refused.stderr.startswith("key refused: Wrong key refused the key")
    assert unreachable.returncode == 1
    assert unreachable.stderr.startswith("unreachable: http://127.0.0.1:9 could not be reached")
    for result in (refused, unreachable):
        assert "wrong-key-0000" not in result.stdout + result.stderr


def test_remove(sandbox):
    add(sandbox, "Gone")
    out, _ = run("remove", "gone")
    assert out == "Removed provider 'Gone'.\n"
    assert not ProviderCredential.objects.exists()


def test_an_unknown_name_lists_the_known_ones(sandbox):
    add(sandbox, "Known")
    with pytest.raises(CommandError, match=r"No provider named 'Other'\. Known: Known\."):
        run("remove", "Other")
    with pytest.raises(CommandError):
        run("test", "Other")


def test_add_refuses_a_priority_the_database_cannot_hold_and_adds_nothing(sandbox):
    with pytest.raises(CommandError, match="priority"):
        add(sandbox, "Huge", "kie", "--priority", "99999999999999999999")
    assert not ProviderCredential.objects.filter(name="Huge").exists()


class TestReencrypt:
    """Rotating FLUX2WEB_ENCRYPTION_KEY: new key first, reencrypt, then drop the old one."""

    @pytest.fixture
    def secrets(self, sandbox, owner, media):
        from tests.collections.factories import make_collection, make_image
        from tests.links.factories import share

        add(sandbox, "KIE.ai", "kie", "--hmac-key", "whsec-rotate-me")
        collection = make_collection(owner, [make_image(owner, size=(96, 64))])
        link, address = share(owner, collection=collection)
        return ProviderCredential.objects.get(name="KIE.ai"), link, address

    def test_every_secret_moves_to_the_new_key_so_the_old_one_can_go(
        self, secrets, settings, client
    ):
        from django.test import override_settings

        from flux2web.lib import crypto
        from flux2web.links.models import ShareLink

        credential, link, address = secrets
        old, new = list(settings.ENCRYPTION_KEYS), crypto.generate_key()
        with override_settings(ENCRYPTION_KEYS=[new, *old]):
            out, _ = run("reencrypt")
        assert "Re-encrypted 1 provider credential(s) and 1 share link(s)" in out
        assert KEY not in out

        with override_settings(ENCRYPTION_KEYS=[new]):  # the old key is gone
            fresh = ProviderCredential.objects.get(pk=credential.pk)
            assert fresh.api_key() == KEY and fresh.hmac_key() == "whsec-rotate-me"
            token = crypto.decrypt(ShareLink.objects.get(pk=link.pk).token_encrypted)
            assert address.rstrip("/").endswith(token)
            assert client.get(address).status_code == 200

    def test_a_secret_no_key_opens_changes_nothing_and_says_which(self, secrets):
        from django.test import override_settings

        from flux2web.lib import crypto
        from flux2web.links.models import ShareLink

        credential, link, _ = secrets
        with (
            override_settings(ENCRYPTION_KEYS=[crypto.generate_key()]),  # the old key left out
            pytest.raises(CommandError, match=r"Nothing was changed.*provider 'KIE\.ai'") as err,
        ):
            run("reencrypt")
        assert KEY not in str(err.value)
        fresh = ProviderCredential.objects.get(pk=credential.pk)
        assert fresh.api_key_encrypted == credential.api_key_encrypted
        assert ShareLink.objects.get(pk=link.pk).token_encrypted == link.token_encrypted
