"""Make or revoke a person's API token from a script: `create` prints the token alone on
standard output (so `TOKEN=$(manage.py api_token create ...)` works); every refusal is a
sentence on standard error and a non-zero exit."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from flux2web.accounts import api_tokens
from flux2web.accounts.models import ApiToken


class Command(BaseCommand):
    help = "Make (printing the token once) or revoke a person's API token."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Make a token; prints it alone, once.")
        revoke = actions.add_parser("revoke", help="Revoke a live token at once.")
        for action in (create, revoke):
            action.add_argument("--user", required=True, help="The owner's user name.")
            action.add_argument("--name", required=True, help="The token's name (its label).")
        create.add_argument("--days", type=int, help="Expires after this many days; default never.")

    def handle(self, *args, action, user, name, **options):
        person = get_user_model().objects.filter(username=user).first()
        if person is None:
            raise CommandError(f"No user named {user!r}.")
        if action == "create":
            try:
                _, raw = api_tokens.token_create(owner=person, name=name, days=options["days"])
            except api_tokens.TokenError as error:
                raise CommandError(str(error)) from None
            self.stdout.write(raw)
            return
        live = ApiToken.objects.for_user(person).filter(name=name.strip()).active()
        if not live.revoke():
            raise CommandError(f"{user} has no live token named {name!r}.")
        self.stderr.write(f"Revoked {user}'s token {name!r}.")
