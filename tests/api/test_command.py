"""`manage.py api_token create|revoke`: the token alone on standard output, every refusal in
words on standard error with a non-zero exit."""

import subprocess
import sys

import pytest

from flux2web.accounts import api_tokens
from flux2web.accounts.models import ApiToken
from tests.helpers import ROOT, subprocess_env

pytestmark = pytest.mark.django_db(transaction=True)


def manage(*args):
    return subprocess.run(
        [sys.executable, "manage.py", "api_token", *args],
        cwd=ROOT,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_create_prints_the_token_alone(owner):
    done = manage("create", "--user", owner.username, "--name", "ci", "--days", "30")
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("\n") and done.stdout.count("\n") == 1
    token = api_tokens.authenticate(done.stdout.strip())
    assert token.owner == owner and token.name == "ci" and token.expires_at


def test_revoke_kills_the_named_token(owner, make_token):
    _, raw = make_token(owner, "ci")
    done = manage("revoke", "--user", owner.username, "--name", "ci")
    assert done.returncode == 0, done.stderr
    assert api_tokens.authenticate(raw) is None
    assert "ci" in done.stderr + done.stdout and raw not in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("create", "--user", "nobody", "--name", "x"), "No user named 'nobody'"),
        (("create", "--user", "olivia", "--name", "taken"), "already have a token named"),
        (("create", "--user", "olivia", "--name", "x", "--days", "0"), "1 to 3650 days"),
        (("create", "--user", "olivia", "--name", ""), "Give the token a name"),
        (("create", "--user", "idle", "--name", "x"), "deactivated"),
        (("revoke", "--user", "olivia", "--name", "never made"), "no live token named"),
        (("revoke", "--user", "nobody", "--name", "x"), "No user named 'nobody'"),
    ],
)
def test_refusals_are_clear_on_stderr(owner, make_token, django_user_model, args, words):
    make_token(owner, "taken")
    django_user_model.objects.create_user("idle", is_active=False)
    done = manage(*args)
    assert done.returncode != 0
    assert done.stdout == ""
    assert words in done.stderr
    assert "Traceback" not in done.stderr
    assert ApiToken.objects.count() == 1
