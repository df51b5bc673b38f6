"""What providers have said lately, and the policy that routes around a broken account.

401 (key refused), 402 (account empty) and 433 (key cap used up) switch a credential off
until an admin acts: every job sent there would fail. 429 and 455 (maintenance) pause it
for a while instead. Routing skips both kinds (ProviderCredential.objects.available()).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from flux2web.credentials.models import CredentialError, ProviderCredential
from flux2web.providers.types import ErrorClass, ProviderError

log = logging.getLogger(__name__)

# Answers after which every job sent there would fail, until an admin acts: a refused key
# (401), an empty account (402, or a task failing for want of credit), a key's own usage
# cap used up (KIE's 433).
SWITCH_OFF = (ErrorClass.AUTH, ErrorClass.CREDITS, ErrorClass.KEY_CAP)
# A 429 without Retry-After: how long to leave the account alone.
RATE_LIMIT_COOLDOWN = timedelta(seconds=60)


def record_error(credential: ProviderCredential, error: ProviderError):
    # The message is the provider's words, never our request or key: the client scrubbed
    # it already, and it is scrubbed again here, where it is kept.
    now = timezone.now()
    message = credential.scrub(error.message)[:500]
    CredentialError.objects.create(
        credential_id=credential.pk,
        at=now,
        error_class=error.error_class,
        http_status=error.http_status,
        message=message,
    )
    changes = {
        "last_error_at": now,
        "last_error_class": error.error_class,
        "last_error_message": message,
    }
    if error.error_class in SWITCH_OFF:
        changes.update(enabled=False, disabled_reason=str(error.error_class))
        log.warning("provider %s switched off: %s", credential.name, error.error_class)
    elif error.error_class in (ErrorClass.RATE_LIMITED, ErrorClass.MAINTENANCE):
        default = (
            RATE_LIMIT_COOLDOWN
            if error.error_class == ErrorClass.RATE_LIMITED
            else timedelta(seconds=settings.MAINTENANCE_COOLDOWN_SECONDS)
        )
        pause = timedelta(seconds=error.retry_after) if error.retry_after is not None else default
        changes["cooldown_until"] = now + pause
        log.info("provider %s cooling down for %ss", credential.name, int(pause.total_seconds()))
    ProviderCredential.objects.filter(pk=credential.pk).update(**changes)


def record_success(credential: ProviderCredential):
    ProviderCredential.objects.filter(pk=credential.pk).update(last_success_at=timezone.now())


def enable(credential: ProviderCredential) -> None:
    """An admin switches it back on: the reason and any cooldown are forgotten."""
    ProviderCredential.objects.filter(pk=credential.pk).update(
        enabled=True, disabled_reason="", cooldown_until=None
    )


def disable(credential: ProviderCredential) -> None:
    """An admin switches it off; routing skips it until someone switches it on."""
    ProviderCredential.objects.filter(pk=credential.pk).update(enabled=False)
