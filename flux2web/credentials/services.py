"""Adding, checking and registering provider credentials; shared by commands and views."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction

from flux2web.credentials import health
from flux2web.credentials.models import ProviderCredential
from flux2web.lib.addresses import url_syntax_problem
from flux2web.providers.base import KEY_CHECK_TASK_ID
from flux2web.providers.catalog import DIALECTS
from flux2web.providers.sandbox import DEFAULT_API_KEY
from flux2web.providers.transport import CallRecord, Timeouts
from flux2web.providers.types import AuthError, NotFound, ProviderError, Unreachable

# Bounded so an absurd number is a refusal, not a database overflow.
MAX_PRIORITY = 1_000_000
MAX_CREATE_LIMIT = 100_000
MAX_CREATE_WINDOW = 24 * 3600


def check_base_url(value: str) -> str:
    value = (value or "").strip().rstrip("/")
    if problem := url_syntax_problem(value):
        raise ValidationError(f"The base URL {problem}.")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(f"The base URL must start with http:// or https:// (got {value!r}).")
    if parts.query or parts.fragment:
        raise ValidationError("The base URL takes no query string or fragment.")
    return value


def add_credential(
    *,
    name: str,
    dialect: str,
    base_url: str,
    api_key: str,
    hmac_key: str = "",
    priority: int = 100,
    enabled: bool = True,
    create_limit: tuple[int | None, int | None] = (None, None),
) -> ProviderCredential:
    """Create a credential, or raise ValidationError naming each bad field; nothing half-made."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["Give the provider a name."]
    elif len(name) > 60:
        errors["name"] = ["The name may have at most 60 characters."]
    elif ProviderCredential.objects.filter(name__iexact=name).exists():
        errors["name"] = [f"A provider named {name!r} exists already."]
    if dialect not in DIALECTS:
        errors["dialect"] = [f"Unknown dialect {dialect!r}; one of {', '.join(DIALECTS)}."]
    if not 0 <= priority <= MAX_PRIORITY:
        errors["priority"] = [f"The priority must be between 0 and {MAX_PRIORITY:,}."]
    credential = ProviderCredential(name=name, dialect=dialect, priority=priority, enabled=enabled)
    for field, action in (
        ("base_url", lambda: setattr(credential, "base_url", check_base_url(base_url))),
        ("api_key", lambda: credential.set_api_key(api_key)),
        ("hmac_key", lambda: credential.set_hmac_key(hmac_key or None)),
        (
            "create_limit_count",
            lambda: set_create_limit(
                credential, count=create_limit[0], seconds=create_limit[1], save=False
            ),
        ),
    ):
        try:
            action()
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                errors.update(exc.message_dict)
            else:
                errors[field] = exc.messages
    if errors:
        raise ValidationError(errors)
    return credential_save(credential, enabled=enabled, create_limit=create_limit)


def credential_save(
    credential: ProviderCredential,
    *,
    enabled: bool,
    create_limit: tuple[int | None, int | None],
    api_key: str = "",
    hmac_key: str = "",
    clear_hmac_key: bool = False,
) -> ProviderCredential:
    """The one write path of a credential (the provider form, the Django admin and the
    command line): its create limit checked, its secrets encrypted (an empty one keeps
    what is stored), saved. Switched back on, it starts with a clean health record, as
    "Switch on" does."""
    set_create_limit(credential, count=create_limit[0], seconds=create_limit[1], save=False)
    if api_key:
        credential.set_api_key(api_key)
    if clear_hmac_key:
        credential.set_hmac_key(None)
    elif hmac_key:
        credential.set_hmac_key(hmac_key)
    existing = credential.pk is not None
    was_on = existing and ProviderCredential.objects.filter(pk=credential.pk, enabled=True).exists()
    credential.enabled = enabled and (was_on or not existing)
    credential.save()
    if enabled and existing and not was_on:
        health.enable(credential)
        credential.refresh_from_db()
    return credential


def check_create_limit(count: int | None, seconds: int | None) -> tuple[int | None, int | None]:
    """A credential's own create limit as stored: (None, None) for the dialect's documented
    one, (0, None) for none at all, else (tasks, seconds). ValidationError says what is
    wrong, by field."""
    if count is None:
        if seconds is not None:
            raise ValidationError(
                {"create_limit_count": ["Give the number of new tasks too, or neither."]}
            )
        return None, None
    if not 0 <= count <= MAX_CREATE_LIMIT:
        raise ValidationError(
            {
                "create_limit_count": [
                    f"The number of new tasks must be from 0 (no limit) to {MAX_CREATE_LIMIT:,}."
                ]
            }
        )
    if count == 0:
        return 0, None
    if seconds is None or not 1 <= seconds <= MAX_CREATE_WINDOW:
        raise ValidationError(
            {
                "create_limit_seconds": [
                    f"Say per how many seconds, from 1 to {MAX_CREATE_WINDOW:,}."
                ]
            }
        )
    return count, seconds


def parse_create_limit(text: str) -> tuple[int | None, int | None]:
    """The command line's words: "20/10" (tasks per seconds), "none", or "default"."""
    text = (text or "").strip().lower()
    if text in ("", "default"):
        return None, None
    if text in ("none", "0"):
        return 0, None
    count, slash, seconds = text.partition("/")
    try:
        return check_create_limit(int(count), int(seconds) if slash else None)
    except ValueError:
        raise ValidationError(
            {
                "create_limit_count": [
                    f"Write the limit as TASKS/SECONDS (e.g. 20/10), none or default; not {text!r}."
                ]
            }
        ) from None


def set_create_limit(
    credential: ProviderCredential, *, count: int | None, seconds: int | None, save: bool = True
) -> None:
    """The one way a credential's create limit changes (form, command line, admin)."""
    count, seconds = check_create_limit(count, seconds)
    credential.create_limit_count, credential.create_limit_seconds = count, seconds
    if save and credential.pk:
        credential.save(update_fields=["create_limit_count", "create_limit_seconds", "updated_at"])


@dataclass(frozen=True)
class KeyCheck:
    outcome: str  # "ok", "key refused", "unreachable" or "error"
    detail: str

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


def check_credential(credential: ProviderCredential, *, timeout: float = 10.0) -> KeyCheck:
    """One free authenticated call, telling a refused key from an unreachable provider."""
    calls: list[CallRecord] = []
    timeouts = Timeouts(connect=min(5.0, timeout), create=timeout, read=timeout)
    missing: NotFound | None = None
    try:
        with credential.client(observer=calls.append, timeouts=timeouts, read_attempts=1) as c:
            try:  # the check asks about a made-up task: "no such task" is the good answer
                c.status(KEY_CHECK_TASK_ID)
            except NotFound as exc:
                missing = exc
    except AuthError as exc:
        said = credential.scrub(exc.message)
        return KeyCheck("key refused", f"{credential.name} refused the key: {said}")
    except Unreachable as exc:
        said = credential.scrub(exc.message)
        return KeyCheck("unreachable", f"{credential.base_url} could not be reached: {said}")
    except ProviderError as exc:
        if exc.error_class != "validation":  # a made-up task id may be refused as malformed
            said = credential.scrub(exc.message)
            return KeyCheck("error", f"{credential.name} answered with an error: {said}")
    last = calls[-1] if calls else None
    if missing is not None and not _names_the_task(missing):
        # An HTTP 404 that says nothing of our task: the address has no such API, so the
        # key was never looked at. That is a wrong base URL, not a working key.
        said = f"HTTP {last.status}" if last and last.status else "an answer"
        if missing.code and missing.code != str(last.status if last else ""):
            said += f", code {missing.code}"
        where = last.path if last else "the status check"
        return KeyCheck(
            "error",
            f"{credential.base_url} answered Not Found ({said}) for {where}: the base URL is "
            "probably wrong (no provider API there), so the key was not checked.",
        )
    how = f" in {last.duration_ms} ms" if last else ""
    return KeyCheck("ok", f"{credential.name} accepted the key (a status check answered{how}).")


def _names_the_task(exc: NotFound) -> bool:
    """Whether a "not found" answer is the provider's own word on our made-up task."""
    # A router's "no route GET /api/.../flux2web-key-check" names it only inside the
    # address it could not find: words that are addresses do not count.
    said = " ".join(
        w for w in f"{exc.message} {exc.raw!r}".split() if "/" not in w and "=" not in w
    )
    return KEY_CHECK_TASK_ID in said or "task" in said.lower()


@transaction.atomic
def register_sandbox(base_url: str, *, api_key: str = DEFAULT_API_KEY) -> list[ProviderCredential]:
    """On a fresh install (no provider at all), add the sandbox as one provider per dialect,
    served at the dialect's first mount."""
    if ProviderCredential.objects.exists():
        return []
    base_url = check_base_url(base_url)
    served = [d for d in DIALECTS.values() if d.sandbox and d.sandbox_name]
    return [
        add_credential(
            name=dialect.sandbox_name,
            dialect=dialect.name,
            base_url=f"{base_url}/{dialect.sandbox[0].mount}",
            api_key=api_key,
            priority=1000 + number,
        )
        for number, dialect in enumerate(served)
    ]
