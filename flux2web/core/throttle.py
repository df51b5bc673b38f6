"""Limits that guard a secret (a share link's password), counted in the database so that
every process of every machine counts together, and exactly when tries arrive at once.

Django's cache would count per process by default (LocMemCache), and its file and database
caches' `incr` is a read and a write that two processes can interleave; django-ratelimit
and its kin keep their counters in that cache. Sign-ins are throttled by django-axes, which
keeps its attempts in the database for the same reason. A window here is one row, taken
under its row lock (SELECT ... FOR UPDATE on PostgreSQL, SQLite's write lock there), as the
providers' create pacing is."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from flux2web.core.models import ThrottleWindow


def take(key: str, *, limit: int, seconds: int) -> float:
    """Count one try against `key`, whose window starts at its first try and lasts
    `seconds`. 0 when the try is within `limit`; otherwise the seconds until the window
    ends (the try is counted all the same: a refused guesser is not rewarded)."""
    now = timezone.now()
    windows = ThrottleWindow.objects.select_for_update()
    with transaction.atomic():
        # Locked first: a row another process deleted meanwhile is simply not found.
        window = windows.filter(key=key).first()
        if window is None:
            # A new key is the moment to forget the windows that have ended.
            ThrottleWindow.objects.filter(ends_at__lte=now).delete()
            ThrottleWindow.objects.get_or_create(  # or made by another process just now
                key=key, defaults={"ends_at": now + timedelta(seconds=seconds)}
            )
            window = windows.get(key=key)
        if window.ends_at <= now:
            window.count, window.ends_at = 0, now + timedelta(seconds=seconds)
        window.count += 1
        window.save(update_fields=["count", "ends_at"])
    if window.count <= limit:
        return 0.0
    return max(0.001, (window.ends_at - now).total_seconds())


def give_back(key: str) -> None:
    """Uncount one try (a right password), while its window lasts."""
    ThrottleWindow.objects.filter(key=key, count__gt=0, ends_at__gt=timezone.now()).update(
        count=F("count") - 1
    )
