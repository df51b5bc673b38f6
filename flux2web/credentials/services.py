"""Adding, checking and registering provider credentials; shared by commands and views."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction

from flux2web.credentials.models import ProviderCredential
from flux2web.providers.base import KEY_CHECK_TASK_ID
from flux2web.providers.catalog import DIALECTS
from flux2web.providers.sandbox import DEFAULT_API_KEY
from flux2web.providers.transport import CallRecord, Timeouts
from flux2web.providers.types import AuthError, NotFound, ProviderError, Unreachable

# Bounded so an absurd number is a refusal, not a database overflow.
MAX_PRIORITY = 1_000_000

SANDBOX_PROVIDERS = (
    ("Sandbox KIE", "kie"),
    ("Sandbox LiangXin", "liangxin"),
    ("Sandbox Apixo", "apixo"),
    ("Sandbox APIMart", "apimart"),
)


def check_base_url(value: str) -> str:
    value = (value or "").strip().rstrip("/")
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
    ):
        try:
            action()
        except ValidationError as exc:
            errors[field] = exc.messages
    if errors:
        raise ValidationError(errors)
    credential.save()
    return credential


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
    """On a fresh install (no provider at all), add the sandbox as one provider per dialect."""
    if ProviderCredential.objects.exists():
        return []
    base_url = check_base_url(base_url)
    return [
        add_credential(
            name=name,
            dialect=dialect,
            base_url=f"{base_url}/{dialect}",
            api_key=api_key,
            priority=1000 + number,
        )
        for number, (name, dialect) in enumerate(SANDBOX_PROVIDERS)
    ]
