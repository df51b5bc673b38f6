"""Each account's create limit, kept across every worker process: a slot per new task.

KIE refuses the 21st new task in 10 seconds with 429 and does not queue it, so a burst
must never reach it. Before a create is sent, a slot is taken in the credential's window
row (locked: SELECT ... FOR UPDATE on PostgreSQL, SQLite's write lock there); when the
window is full the caller learns how long until one frees, and sends elsewhere or later.
"""

from __future__ import annotations

import time

from django.db import transaction

from flux2web.credentials.models import CreateWindow, ProviderCredential

# The vendor counts a create when it arrives, a moment after we take its slot: leave this
# much more than the window between a slot and the one `count` before it.
MARGIN_SECONDS = 0.5


def take_create_slot(credential: ProviderCredential, *, now: float | None = None) -> float:
    """0 when a create may go to this account now (and it is counted as sent); otherwise
    the seconds until the window has room, and nothing is counted."""
    limit = credential.create_limit
    if not limit:
        return 0.0
    count, seconds = limit
    span = seconds + MARGIN_SECONDS
    with transaction.atomic():
        CreateWindow.objects.get_or_create(credential_id=credential.pk)
        window = CreateWindow.objects.select_for_update().get(pk=credential.pk)
        now = time.time() if now is None else now
        recent = sorted(t for t in window.sent if isinstance(t, int | float) and t > now - span)
        if len(recent) >= count:
            return max(0.001, recent[-count] + span - now)
        window.sent = [*recent, now][-count:]
        window.save(update_fields=["sent"])
    return 0.0


def room_in(credential: ProviderCredential, *, now: float | None = None) -> float:
    """Seconds until this account could take a new task (0: now); counts nothing."""
    limit = credential.create_limit
    if not limit:
        return 0.0
    count, seconds = limit
    span = seconds + MARGIN_SECONDS
    now = time.time() if now is None else now
    sent = CreateWindow.objects.filter(pk=credential.pk).values_list("sent", flat=True).first()
    recent = sorted(t for t in sent or [] if isinstance(t, int | float) and t > now - span)
    return 0.0 if len(recent) < count else recent[-count] + span - now
