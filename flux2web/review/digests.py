"""E-mail digests of notifications, and unsubscribing from them by kind.

A scheduled task calls `send_due` every few minutes. Each person gets at most one e-mail a
quarter hour, listing what is new since the last one: each notification's text and the
site address it opens, nothing else (no image, no prompt, no share address, no password).
The quarter hour is a throttle window in the database (flux2web.core.throttle), taken
under a row lock, so two workers running at once cannot both mail the same person."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from flux2web.core import throttle
from flux2web.review.models import EmailOptOut, Notification
from flux2web.review.notifications import site_path

log = logging.getLogger(__name__)

QUIET_SECONDS = 15 * 60
# Listed in one e-mail at most; the rest are counted and wait on the notifications page.
LISTED = 50
KINDS = dict(Notification.Kind.choices)
# Each kind as the words after "Stop e-mails about …" and "Send me an e-mail about …".
ABOUT = {
    Notification.Kind.MENTION: "mentions of you",
    Notification.Kind.IMAGE_COMMENT: "comments on your images",
    Notification.Kind.SELECTION: "clients' confirmed selections",
    Notification.Kind.LINK_COMMENT: "comments on your share links",
}
ALL = "all"  # the List-Unsubscribe header's token: every kind at once
SALT = "flux2web.review.unsubscribe"


# ---- Unsubscribe links: a signed (person, kind), good without signing in. -------------


def unsubscribe_token(*, user_id: int, kind: str) -> str:
    return signing.dumps([user_id, kind], salt=SALT)


def read_token(token: str) -> tuple[int, str] | None:
    """(person id, kind) of a token this site signed, else None."""
    try:
        user_id, kind = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if type(user_id) is not int or (kind not in KINDS and kind != ALL):
        return None
    return user_id, kind


def kind_label(kind: str) -> str:
    return "every kind of notification" if kind == ALL else ABOUT[kind]


def email_choices() -> list[tuple[str, str]]:
    """The kinds as e-mail settings list them: "Comments on your images"."""
    return [(kind, words[0].upper() + words[1:]) for kind, words in ABOUT.items()]


def opt_out(*, user_id: int, kind: str) -> None:
    kinds = list(KINDS) if kind == ALL else [kind]
    EmailOptOut.objects.bulk_create(
        [EmailOptOut(user_id=user_id, kind=k) for k in kinds], ignore_conflicts=True
    )


def emailed_kinds(user) -> list[str]:
    opted = set(EmailOptOut.objects.filter(user=user).values_list("kind", flat=True))
    return [k for k in KINDS if k not in opted]


def set_emailed_kinds(*, user, kinds) -> None:
    """E-mail `kinds` to the person, and no other kind."""
    with transaction.atomic():
        EmailOptOut.objects.filter(user=user, kind__in=kinds).delete()
        EmailOptOut.objects.bulk_create(
            [EmailOptOut(user=user, kind=k) for k in KINDS if k not in kinds],
            ignore_conflicts=True,
        )


# ---- Sending. ---------------------------------------------------------------------------


def send_due() -> int:
    """Mail each person what is waiting for them, unless they had a digest in the last
    quarter hour. Returns how many e-mails went out."""
    waiting = Notification.objects.filter(emailed_at__isnull=True).order_by()
    people = list(waiting.values_list("recipient_id", flat=True).distinct())
    return sum(_send_to(user_id) for user_id in people)


def _send_to(user_id: int) -> int:
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None or not user.is_active or not user.email:
        waiting = Notification.objects.filter(recipient_id=user_id, emailed_at__isnull=True)
        # Never mailed; not kept waiting either, or they would pile up into one huge
        # e-mail the day an address is added.
        waiting.update(emailed_at=timezone.now())
        return 0
    # Only what the person may read now (`for_reader`): one about an image made private
    # since waits, unsent, and goes out if the image is shown to them again.
    waiting = Notification.objects.for_reader(user).filter(emailed_at__isnull=True)
    opted = list(EmailOptOut.objects.filter(user_id=user_id).values_list("kind", flat=True))
    if opted:
        waiting.filter(kind__in=opted).update(emailed_at=timezone.now())
        waiting = waiting.exclude(kind__in=opted)
    if not waiting.exists():
        return 0
    key = f"digest:{user_id}"
    if throttle.take(key, limit=1, seconds=QUIET_SECONDS):
        return 0  # one went out less than a quarter hour ago: these wait for the next
    now = timezone.now()
    with transaction.atomic():
        notes = list(waiting.select_for_update().order_by("-created_at", "-id"))
        claimed = Notification.objects.filter(
            pk__in=[n.pk for n in notes], emailed_at__isnull=True
        ).update(emailed_at=now)
    if not claimed:
        throttle.give_back(key)
        return 0
    try:
        digest(user, notes).send()
    except Exception as exc:  # SMTP down, refused, a malformed address: try again later
        Notification.objects.filter(pk__in=[n.pk for n in notes], emailed_at=now).update(
            emailed_at=None
        )
        throttle.give_back(key)
        # The exception's type only: an SMTP server's answer may quote what it was sent.
        log.warning("e-mail digest for person %s not sent (%s)", user_id, type(exc).__name__)
        return 0
    log.info("e-mail digest sent to person %s: %s notifications", user_id, len(notes))
    return 1


def _absolute(path: str) -> str:
    return settings.PUBLIC_URL.rstrip("/") + path


def digest(user, notes: list[Notification]) -> EmailMessage:
    """One person's e-mail: each notification's text and address, and per kind it holds
    a link to stop e-mails of that kind."""
    everything = reverse("review:notifications")
    kinds = sorted({n.kind for n in notes}, key=list(KINDS).index)
    context = {
        "user": user,
        "lines": [(n.text, _absolute(site_path(n.url) or everything)) for n in notes[:LISTED]],
        "more": max(0, len(notes) - LISTED),
        "everything": _absolute(everything),
        "settings_url": _absolute(reverse("review:email_settings")),
        "unsubscribe": [(kind_label(k), _absolute(_unsubscribe_path(user.pk, k))) for k in kinds],
    }
    count = len(notes)
    subject = f"Flux2Web: {count} new notification{'s' if count != 1 else ''}"
    headers = {}
    if settings.PUBLIC_URL:  # the header must hold a whole address
        headers["List-Unsubscribe"] = f"<{_absolute(_unsubscribe_path(user.pk, ALL))}>"
    return EmailMessage(
        subject=subject,
        body=render_to_string("review/digest.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        headers=headers,
    )


def _unsubscribe_path(user_id: int, kind: str) -> str:
    return reverse("review:unsubscribe", args=[unsubscribe_token(user_id=user_id, kind=kind)])
