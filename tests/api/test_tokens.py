"""A personal API token: stored only as a hash, alive until it expires or is revoked, and
found again only from the token itself."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from flux2web.accounts import api_tokens
from flux2web.accounts.models import ApiToken

pytestmark = pytest.mark.django_db


def test_a_new_token_is_returned_once_and_stored_only_as_its_hash(owner, make_token):
    token, raw = make_token(owner)
    assert raw.startswith("f2w_") and len(raw) == 47
    row = ApiToken.objects.get(pk=token.pk)
    assert row.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    stored = [str(v) for v in ApiToken.objects.filter(pk=token.pk).values().get().values()]
    assert not any(raw in value or raw[4:] in value for value in stored)
    assert row.prefix == raw[:8]


def test_the_token_finds_its_owner_and_nothing_else_does(owner, make_token):
    token, raw = make_token(owner)
    assert api_tokens.authenticate(raw) == token
    assert api_tokens.authenticate(raw).owner == owner
    for wrong in ("", "f2w_", raw[:-1], raw + "x", raw.upper(), "Bearer " + raw, "x" * 5000):
        assert api_tokens.authenticate(wrong) is None


def test_a_revoked_expired_or_deactivated_token_finds_nobody(owner, teammate, make_token):
    revoked, raw_revoked = make_token(owner, "a")
    ApiToken.objects.filter(pk=revoked.pk).revoke()
    expired, raw_expired = make_token(owner, "b", days=1)
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    _, raw_inactive = make_token(teammate, "c")
    teammate.is_active = False
    teammate.save()
    for raw in (raw_revoked, raw_expired, raw_inactive):
        assert api_tokens.authenticate(raw) is None


def test_active_means_neither_revoked_nor_expired(owner, make_token):
    live, _ = make_token(owner, "live")
    soon, _ = make_token(owner, "soon", days=1)
    gone, _ = make_token(owner, "gone")
    ApiToken.objects.filter(pk=gone.pk).revoke()
    gone.refresh_from_db()
    now = timezone.now()
    assert set(ApiToken.objects.for_user(owner).active(now)) == {live, soon}
    assert set(ApiToken.objects.active(now + timedelta(days=2))) == {live}
    assert soon.status(now) == "active" and gone.status(now) == "revoked"
    assert soon.status(now + timedelta(days=2)) == "expired"


def test_last_used_is_written_at_most_once_a_minute(owner, make_token, django_assert_num_queries):
    token, raw = make_token(owner)
    api_tokens.authenticate(raw)
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    with django_assert_num_queries(1):  # the lookup only: no write
        api_tokens.authenticate(raw)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(seconds=61))
    api_tokens.authenticate(raw)
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first - timedelta(seconds=1)


def test_names_are_unique_per_person_among_live_tokens(owner, teammate, make_token):
    make_token(owner, "laptop")
    with pytest.raises(api_tokens.TokenError, match="already have a token named"):
        make_token(owner, "laptop")
    make_token(teammate, "laptop")  # someone else's
    ApiToken.objects.for_user(owner).revoke()
    make_token(owner, "laptop")  # a revoked one frees its name
    expired, _ = make_token(owner, "old", days=1)
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    make_token(owner, "old")  # so does an expired one


@pytest.mark.parametrize(
    ("name", "days", "words"),
    [
        ("", None, "name"),
        ("   ", None, "name"),
        ("\u202e\ufeff", None, "name"),
        ("x" * 81, None, "80"),
        ("ok", 0, "days"),
        ("ok", 3651, "days"),
        ("bad\x00name", None, "name"),
    ],
)
def test_bad_names_and_expiries_are_refused(owner, make_token, name, days, words):
    with pytest.raises(api_tokens.TokenError, match=words):
        make_token(owner, name, days=days)
    assert not ApiToken.objects.exists()


def test_an_inactive_person_gets_no_token(owner, make_token):
    owner.is_active = False
    owner.save()
    with pytest.raises(api_tokens.TokenError, match="deactivated"):
        make_token(owner)
