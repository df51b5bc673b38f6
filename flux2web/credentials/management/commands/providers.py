"""providers add|list|test|remove|enable|disable: provider keys from the shell, never printed."""

import sys
from pathlib import Path

from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import ProtectedError

from flux2web.credentials import health
from flux2web.credentials.models import ProviderCredential
from flux2web.credentials.services import (
    add_credential,
    check_credential,
    parse_create_limit,
    set_create_limit,
)
from flux2web.lib import crypto
from flux2web.providers.catalog import DIALECTS, limit_words


def secret_tables() -> list[tuple[type, tuple[str, ...]]]:
    """Every model holding secrets encrypted with FLUX2WEB_ENCRYPTION_KEY, and those
    columns: the ones named `*_encrypted`. Found in the app registry, so the apps above
    this one that keep secrets (share links) are rotated without being imported here."""
    tables = []
    for model in apps.get_models():
        fields = tuple(
            f.attname for f in model._meta.concrete_fields if f.attname.endswith("_encrypted")
        )
        if fields:
            tables.append((model, fields))
    return tables


def _named(row) -> str:
    """How an error names a row: a provider by its name, anything else by its number."""
    if isinstance(row, ProviderCredential):
        return f"provider {row.name!r}"
    return f"{row._meta.verbose_name} {row.pk}"


def read_secret(value: str | None, path: str | None, what: str) -> str | None:
    """A secret from its flag or from a file ("-" for standard input), never both."""
    if value is not None and path is not None:
        raise CommandError(f"Give the {what} once: --{what} or --{what}-file, not both.")
    if path is None:
        return value
    if path == "-":
        return sys.stdin.read().strip()
    try:
        return Path(path).read_text().strip()
    except OSError as exc:
        raise CommandError(f"Cannot read the {what} from {path}: {exc.strerror}.") from None
    except UnicodeDecodeError:
        raise CommandError(f"{path} is not a text file; put the {what} alone in one.") from None


def _lines(exc: ValidationError) -> str:
    return "\n".join(
        f"  {field}: {msg}" for field, msgs in exc.message_dict.items() for msg in msgs
    )


class Command(BaseCommand):
    help = "Manage provider credentials: add, list, test, remove. Keys are never printed."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        add = actions.add_parser("add", help="Add a provider credential.")
        add.add_argument("--name", required=True)
        add.add_argument("--dialect", required=True, choices=list(DIALECTS))
        add.add_argument("--base-url", required=True)
        add.add_argument("--api-key", help="Visible in shell history; prefer --api-key-file.")
        add.add_argument("--api-key-file", help='Read the key from a file ("-" for stdin).')
        add.add_argument("--hmac-key", help="KIE's webhook HMAC key, to verify callbacks.")
        add.add_argument("--hmac-key-file")
        add.add_argument("--priority", type=int, default=100, help="Lower is tried first.")
        add.add_argument("--disabled", action="store_true")
        add.add_argument(
            "--create-limit",
            default="default",
            metavar="TASKS/SECONDS",
            help="New tasks this account accepts, e.g. 20/10; 'none', or "
            "'default' for the vendor's documented limit.",
        )
        limit = actions.add_parser("limit", help="Set a provider's create limit.")
        limit.add_argument("name")
        limit.add_argument("limit", metavar="TASKS/SECONDS|none|default")

        actions.add_parser("list", help="List provider credentials (keys by last 4 only).")
        actions.add_parser(
            "reencrypt",
            help="Re-encrypt every stored secret (provider keys, share link tokens) with the "
            "first FLUX2WEB_ENCRYPTION_KEY, so the others can be removed.",
        )
        check = actions.add_parser("test", help="Check a key with one free call.")
        check.add_argument("name")
        for action, text in (
            ("remove", "Remove a provider credential that has no jobs."),
            ("enable", "Route new jobs to this provider again."),
            ("disable", "Route no new jobs to this provider."),
        ):
            actions.add_parser(action, help=text).add_argument("name")

    def handle(self, *args, action, **options):
        getattr(self, f"do_{action}")(**options)

    def do_add(
        self,
        *,
        name,
        dialect,
        base_url,
        api_key,
        api_key_file,
        hmac_key,
        hmac_key_file,
        priority,
        disabled,
        create_limit,
        **_,
    ):
        api_key = read_secret(api_key, api_key_file, "api-key")
        if api_key is None:
            raise CommandError("An API key is required: --api-key-file FILE (or --api-key).")
        try:
            limit = parse_create_limit(create_limit)
            credential = add_credential(
                name=name,
                dialect=dialect,
                base_url=base_url,
                api_key=api_key,
                hmac_key=read_secret(hmac_key, hmac_key_file, "hmac-key") or "",
                priority=priority,
                enabled=not disabled,
                create_limit=limit,
            )
        except ValidationError as exc:
            raise CommandError("Nothing was added:\n" + _lines(exc)) from None
        state = "enabled" if credential.enabled else "disabled"
        self.stdout.write(
            f"Added provider {credential.name!r} ({credential.dialect}, {credential.base_url}), "
            f"key {credential.key_hint}, priority {credential.priority}, {state}, "
            f"create limit {credential.create_limit_words}."
        )

    def do_limit(self, *, name, limit, **_):
        credential = self._get(name)
        try:
            count, seconds = parse_create_limit(limit)
            set_create_limit(credential, count=count, seconds=seconds)
        except ValidationError as exc:
            raise CommandError("Nothing was changed:\n" + _lines(exc)) from None
        self.stdout.write(f"{credential.name!r} create limit: {credential.create_limit_words}.")

    def do_reencrypt(self, **_):
        """All or nothing: a secret no key opens stops it before anything is written."""
        counts = []
        with transaction.atomic():
            for model, fields in secret_tables():
                rows = model.objects.select_for_update().order_by("pk")
                for row in rows:
                    try:
                        changes = {f: crypto.reencrypt(v) for f in fields if (v := getattr(row, f))}
                    except crypto.DecryptionError as exc:
                        raise CommandError(
                            f"Nothing was changed: the secret of {_named(row)} cannot be read "
                            f"({exc}). Put the old key after the new one, comma-separated."
                        ) from None
                    model.objects.filter(pk=row.pk).update(**changes)
                counts.append(f"{len(rows)} {model._meta.verbose_name}(s)")
        self.stdout.write(
            f"Re-encrypted {' and '.join(counts)} "
            "with the first FLUX2WEB_ENCRYPTION_KEY; the keys after it can now be removed."
        )

    def do_list(self, **_):
        rows = [
            (
                c.name,
                c.dialect,
                c.base_url,
                str(c.priority),
                "yes" if c.enabled else "no",
                c.key_hint,
                "yes" if c.has_hmac_key else "",
                limit_words(c.create_limit),
            )
            for c in ProviderCredential.objects.by_priority()
        ]
        if not rows:
            self.stdout.write("No providers yet. Add one with: manage.py providers add --help")
            return
        header = (
            "NAME",
            "DIALECT",
            "BASE URL",
            "PRIORITY",
            "ENABLED",
            "KEY",
            "HMAC",
            "CREATE LIMIT",
        )
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            self.stdout.write(
                "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
            )

    def do_test(self, *, name, **_):
        result = check_credential(self._get(name))
        line = f"{result.outcome}: {result.detail}"
        if not result.ok:
            self.stderr.write(line)
            sys.exit(1)
        self.stdout.write(line)

    def do_remove(self, *, name, **_):
        credential = self._get(name)
        try:
            credential.delete()
        except ProtectedError:
            count = credential.jobs.count()
            raise CommandError(
                f"{credential.name!r} has {count} job(s) that must stay traceable to it; "
                f"disable it instead: manage.py providers disable {credential.name!r}"
            ) from None
        self.stdout.write(f"Removed provider {credential.name!r}.")

    def do_enable(self, *, name, **_):
        self._set_enabled(name, True)

    def do_disable(self, *, name, **_):
        self._set_enabled(name, False)

    def _set_enabled(self, name: str, enabled: bool):
        credential = self._get(name)
        (health.enable if enabled else health.disable)(credential)
        word = "enabled" if enabled else "disabled"
        self.stdout.write(f"{credential.name!r} is {word}.")

    def _get(self, name: str) -> ProviderCredential:
        found = ProviderCredential.objects.filter(name__iexact=name.strip()).first()
        if found is None:
            known = ", ".join(ProviderCredential.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"No provider named {name!r}. Known: {known}.")
        return found
