"""Changing a member's account: the one write path for the member page's actions."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from flux2web.accounts import api_tokens
from flux2web.links import services as links

User = get_user_model()


def member_deactivate(*, person) -> None:
    """They can no longer sign in, nothing they shared by link stays open, and none of their
    API tokens works again (reactivating them brings no token back)."""
    with transaction.atomic():
        User.objects.filter(pk=person.pk).update(is_active=False)
        links.revoke_user_links(user_id=person.pk)
        api_tokens.revoke_user_tokens(user_id=person.pk)


def member_activate(*, person) -> None:
    User.objects.filter(pk=person.pk).update(is_active=True)


def member_set_admin(*, person, admin: bool) -> None:
    User.objects.filter(pk=person.pk).update(is_team_admin=admin)
