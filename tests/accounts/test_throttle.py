"""Sign-in throttling (django-axes): by account and by client address, with a clear
message, lifting by itself after a short cool-off."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"
LIMIT = 5


def sign_in(client, username="olivia", password=PASSWORD, address="198.51.100.7", **headers):
    return client.post(LOGIN, {"username": username, "password": password},
                       REMOTE_ADDR=address, **headers)  # fmt: skip


def signed_in(client) -> bool:
    return client.get("/").status_code == 200


def test_wrong_passwords_lock_the_account_with_a_clear_message(client, owner):
    for _ in range(LIMIT - 1):
        assert sign_in(client, password="guess").status_code == 200
    response = sign_in(client, password="guess")
    assert response.status_code == 429
    # Even the right password is refused now, on the sign-in page, saying what to do.
    response = sign_in(client)
    assert response.status_code == 429
    html = response.content.decode()
    assert "<h1>Sign in</h1>" in html
    assert "Too many failed sign-ins" in html and "15 minutes" in html
    assert not signed_in(client)


def test_the_locked_account_is_locked_from_every_address(client, owner):
    for n in range(LIMIT):
        sign_in(client, password="guess", address=f"203.0.113.{n + 1}")
    assert sign_in(client, address="192.0.2.50").status_code == 429
    assert not signed_in(client)


def test_one_address_trying_many_accounts_is_throttled(client, owner, teammate):
    for n in range(LIMIT):
        sign_in(client, username=f"someone{n}", password="guess", address="203.0.113.9")
    assert sign_in(client, address="203.0.113.9").status_code == 429
    assert not signed_in(client)
    # The account itself is not locked: its owner elsewhere signs in.
    assert sign_in(client, address="192.0.2.50").status_code == 302
    assert signed_in(client)


def test_the_lock_lifts_by_itself_after_the_cool_off(client, owner):
    for _ in range(LIMIT):
        sign_in(client, password="guess")
    assert sign_in(client).status_code == 429
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time
                                 - timedelta(minutes=16))  # fmt: skip
    assert sign_in(client).status_code == 302
    assert signed_in(client)


def test_more_guesses_during_the_lock_do_not_prolong_it(client, owner):
    for _ in range(LIMIT):
        sign_in(client, password="guess")
    locked_at = AccessAttempt.objects.get().attempt_time
    for _ in range(3):
        assert sign_in(client, password="guess").status_code == 429
    assert AccessAttempt.objects.get().attempt_time == locked_at


def test_a_successful_sign_in_forgets_earlier_failures(client, owner):
    for _ in range(LIMIT - 1):
        sign_in(client, password="guess")
    assert sign_in(client).status_code == 302
    client.post("/accounts/logout/")
    for _ in range(LIMIT - 1):
        sign_in(client, password="guess")
    assert sign_in(client).status_code == 302


def test_no_password_is_stored_with_the_attempts(client, owner):
    for _ in range(LIMIT):
        sign_in(client, password="my-secret-guess")
    attempt = AccessAttempt.objects.get()
    assert "my-secret-guess" not in attempt.post_data


def test_behind_a_proxy_the_address_the_proxy_saw_is_throttled(client, owner, settings):
    settings.BEHIND_PROXY = True
    # Everyone arrives from the proxy's address; the proxy appends the client's.
    for _ in range(LIMIT):
        sign_in(client, username="nobody", password="guess", address="10.0.0.1",
                HTTP_X_FORWARDED_FOR="forged, 203.0.113.9")  # fmt: skip
    assert sign_in(client, address="10.0.0.1",
                   HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 429  # fmt: skip
    assert sign_in(client, address="10.0.0.1",
                   HTTP_X_FORWARDED_FOR="192.0.2.50").status_code == 302  # fmt: skip


def test_without_a_proxy_a_forwarded_header_is_ignored(client, owner, settings):
    settings.BEHIND_PROXY = False
    for n in range(LIMIT):
        sign_in(client, username="nobody", password="guess", address="203.0.113.9",
                HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")  # fmt: skip
    assert sign_in(client, address="203.0.113.9").status_code == 429


def test_a_username_longer_than_any_account_is_refused_like_a_wrong_password(client, owner):
    # django-axes records a try's username in a 255-character column: PostgreSQL refused
    # a longer one with a 500. No account has one, so it is not even tried.
    for username in ("x" * 100_000, "😀" * 300):
        response = sign_in(client, username=username)
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()
    assert not AccessAttempt.objects.exists()
    assert not signed_in(client)


def test_a_set_password_link_signs_a_locked_out_member_in_and_lifts_the_lock(client, owner):
    for _ in range(LIMIT):
        sign_in(client, password="guess")
    assert sign_in(client).status_code == 429
    # The link an admin hands on is the proof: no authenticate() for axes to refuse.
    uid = urlsafe_base64_encode(force_bytes(owner.pk))
    link = f"/accounts/set-password/{uid}/{default_token_generator.make_token(owner)}/"
    form = client.get(link, follow=True, REMOTE_ADDR="198.51.100.7")
    new = {"new_password1": "a long new pass 123", "new_password2": "a long new pass 123"}
    done = client.post(form.redirect_chain[-1][0], new, REMOTE_ADDR="198.51.100.7", follow=True)
    assert done.redirect_chain[-1][0] == "/" and done.context["user"] == owner
    client.logout()
    assert sign_in(client, password="a long new pass 123").status_code == 302
    assert signed_in(client)
