"""Notifications: the one place that writes them (`notify`). The bell, the list and the
e-mail digest read what is written here."""

from __future__ import annotations

from django.db.models import Case, F, Value, When
from django.utils import timezone

from flux2web.review.models import Notification

TEXT_MAX = 300
# What a folded notification is, when events of several kinds fold into one: the most
# important of them, first here. A guest's confirmation (selection) stays a selection when
# a comment follows, so an owner who gets no e-mails for link comments still gets it.
IMPORTANCE = [Notification.Kind.MENTION, Notification.Kind.SELECTION,
              Notification.Kind.IMAGE_COMMENT, Notification.Kind.LINK_COMMENT]  # fmt: skip


def _folded_kind(kind: str):
    """The kind a folded row keeps: its own if more important than `kind`, else `kind`."""
    rank = IMPORTANCE.index(kind) if kind in IMPORTANCE else len(IMPORTANCE)
    above = IMPORTANCE[:rank]
    if not above:
        return Value(kind)
    return Case(When(kind__in=above, then=F("kind")), default=Value(kind))


def notify(
    *, recipients, kind: str, text: str, url: str, actor=None, image=None, comment=None,
    key: str = "",
) -> int:  # fmt: skip
    """Tell each recipient (users), except the actor who caused it, once. `text` is plain,
    shown escaped, and must not carry a share token, a password or a prompt; `url` is an
    address inside the site that each recipient may open. With a `key`, a recipient's
    unread notification of that key is brought up to date instead of a second one added,
    keeping the more important of its kind and `kind` (IMPORTANCE: a selection followed by
    a link comment stays a selection). Returns how many were told."""
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
            folded = {**fresh, "kind": _folded_kind(kind)}
            if unread.update(**folded, created_at=timezone.now(), emailed_at=None):
                continue
        rows.append(Notification(recipient=user, key=key, **fresh))
    Notification.objects.bulk_create(rows)
    return len(rows)


# ---- Reading and marking: the bell, the list, opening one. ------------------------------

# The bell counts this many at most ("99+"): a count that stops early costs the same for a
# person with ten thousand unread as for one with three.
BELL_CAP = 100
PATH_MAX = 200


def unread(user):
    return Notification.objects.filter(recipient=user, read_at__isnull=True)


def unread_count(user) -> int:
    """The bell's figure: unread notifications the person may read now, up to BELL_CAP."""
    return Notification.objects.unread_count(user, BELL_CAP)


def site_path(url: str) -> str:
    """`url` if it is a path on this site ("/…", not "//…"), else ""."""
    if (
        not url
        or len(url) > PATH_MAX
        or not url.startswith("/")
        or url.startswith(("//", "/\\"))
        or any(ord(c) < 32 or ord(c) == 127 or c == "\\" for c in url)
    ):
        return ""
    return url


def mark_read(*, notification: Notification) -> None:
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def mark_all_read(*, user) -> int:
    return unread(user).update(read_at=timezone.now())
