"""Create the first admin account with a random password, printed once, if none exists."""

import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "On a fresh install, create an admin account and print its one-time password."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username, **options):
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            return
        try:
            User.username_validator(username)
        except ValidationError as exc:
            raise CommandError(f"--username {username!r}: {' '.join(exc.messages)}") from None
        if not username or len(username) > User._meta.get_field("username").max_length:
            raise CommandError("--username must have 1 to 150 characters.")
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        # The only place this password ever appears; it is stored hashed.
        banner = "=" * 64
        self.stdout.write(
            f"\n{banner}\n"
            f"  Flux2Web admin account created\n"
            f"    username: {username}\n"
            f"    password: {password}\n"
            f"  Shown once. Change it after signing in (menu > Change password).\n"
            f"{banner}\n"
        )
