"""Notifications: the one place that writes them (`notify`). The bell, the list and the
e-mail digest read what is written here."""

from __future__ import annotations

from django.utils import timezone

from flux2web.review.models import Notification

TEXT_MAX = 300


def notify(
    *, recipients, kind: str, text: str, url: str, actor=None, image=None, comment=None,
    key: str = "",
) -> int:  # fmt: skip
    """Tell each recipient (users), except the actor who caused it, once. `text` is plain,
    shown escaped, and must not carry a share token, a password or a prompt; `url` is an
    address inside the site that each recipient may open. With a `key`, a recipient's
    unread notification of that key is brought up to date instead of a second one added.
    Returns how many were told."""
    seen, rows = set(), []
    for user in recipients:
        if user is None or user.pk in seen or not user.is_active:
            continue
        if actor is not None and user.pk == getattr(actor, "pk", None):
            continue
        seen.add(user.pk)
        fresh = {"kind": kind, "text": text[:TEXT_MAX], "url": url, "image": image,
                 "comment": comment}  # fmt: skip
        if key:
            unread = Notification.objects.filter(recipient=user, key=key, read_at__isnull=True)
            if unread.update(**fresh, created_at=timezone.now(), emailed_at=None):
                continue
        rows.append(Notification(recipient=user, key=key, **fresh))
    Notification.objects.bulk_create(rows)
    return len(rows)
