"""The team's users. A custom model from day one so roles and quotas can join it later."""

from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    class Meta:
        db_table = "accounts_user"

    def __str__(self):
        return self.get_full_name() or self.username
