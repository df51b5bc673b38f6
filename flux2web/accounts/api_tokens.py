"""Personal API tokens: making one (shown once), finding one from the `Authorization`
header's token, revoking a person's. The API's pages, command and /v1/ all call these."""

from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from flux2web.accounts.models import ApiToken, TeamPolicy
from flux2web.lib import crypto

PREFIX = "f2w_"
# "f2w_" and secrets.token_urlsafe(32): 256 random bits, always 43 characters.
SHAPE = re.compile(r"f2w_[A-Za-z0-9_-]{43}")
NAME_MAX = ApiToken._meta.get_field("name").max_length
DAYS_MAX = TeamPolicy.LINK_MAX_DAYS
# last_used_at is a hint, not an audit trail: one write a minute per token at most.
TOUCH_EVERY = timedelta(minutes=1)


class TokenError(ValueError):
    """Why a token cannot be made, in words for the person (or the command's stderr)."""


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def clean_name(name: str) -> str:
    name = (name or "").strip()
    # Only spaces and invisible marks (a bidi override, a byte-order mark) show as nothing.
    if all(unicodedata.category(c)[0] in "CZ" for c in name):
        raise TokenError("Give the token a name, such as the script or tool that will use it.")
    if len(name) > NAME_MAX:
        raise TokenError(f"A token's name is at most {NAME_MAX} characters.")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise TokenError("A token's name cannot hold control characters.")
    return name


def clean_days(days: int | None) -> int | None:
    if days is not None and not 1 <= days <= DAYS_MAX:
        raise TokenError(f"A token expires after 1 to {DAYS_MAX} days, or never (no days).")
    return days


def token_create(*, owner, name: str, days: int | None = None) -> tuple[ApiToken, str]:
    """A new token for `owner`: the row, and the token itself, which is not kept anywhere and
    must be shown to the person now."""
    name, days = clean_name(name), clean_days(days)
    if not owner.is_active:
        raise TokenError(f"{owner.get_username()} is deactivated and cannot have API tokens.")
    now = timezone.now()
    raw = new_token()
    try:
        with transaction.atomic():
            # An expired token still holds its name; it is dead anyway, so it lets it go.
            mine = ApiToken.objects.for_user(owner).filter(name=name, revoked_at__isnull=True)
            mine.filter(expires_at__lte=now).revoke(now)
            token = ApiToken.objects.create(
                owner=owner,
                name=name,
                token_hash=crypto.token_digest(raw),
                prefix=raw[: len(PREFIX) + 4],
                created_at=now,
                expires_at=now + timedelta(days=days) if days else None,
            )
    except IntegrityError:
        raise TokenError(
            f"You already have a token named {name!r}; choose another name or revoke that one."
        ) from None
    return token, raw


def authenticate(raw: str) -> ApiToken | None:
    """The live token whose owner may still sign in, or None. One indexed lookup of the
    token's hash: how long it takes says nothing about how close a guess came."""
    if not raw or len(raw) > 100 or not SHAPE.fullmatch(raw):
        return None
    now = timezone.now()
    token = (
        ApiToken.objects.active(now)
        .filter(token_hash=crypto.token_digest(raw), owner__is_active=True)
        .select_related("owner")
        .first()
    )
    if token and (token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def revoke_user_tokens(*, user_id: int) -> int:
    """Every token of this person, dead for good (deactivation)."""
    return ApiToken.objects.filter(owner_id=user_id).revoke()
