"""The team's users. A custom model from day one so roles and quotas can join it later."""

import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models


def new_token() -> str:
    return secrets.token_hex(8)


class User(AbstractUser):
    # Changes whenever this person's gallery changes (an image saved, deleted, starred), so
    # rendered gallery pages can be cached under it and never served stale. Random rather
    # than a counter: a recycled user id never meets an old cache entry.
    gallery_token = models.CharField(max_length=16, default=new_token, editable=False)
    # Team admins run the team in the app: members, quotas, providers, usage. Superusers
    # (the first account) are admins too.
    is_team_admin = models.BooleanField("team admin", default=False)

    class Meta:
        db_table = "accounts_user"

    def __str__(self):
        return self.get_full_name() or self.username

    @property
    def is_admin(self) -> bool:
        return self.is_active and (self.is_team_admin or self.is_superuser)


def gallery_changed(user_id: int) -> None:
    User.objects.filter(pk=user_id).update(gallery_token=new_token())
