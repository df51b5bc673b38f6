"""Teammates' comments and likes on an image: the one write path. Views validate, then call
these keyword-only functions; who is told goes through `notifications.notify` only."""

from __future__ import annotations

import re
import unicodedata

from django.contrib.auth import get_user_model
from django.db import models
from django.urls import reverse

from flux2web.collections.models import CollectionItem
from flux2web.jobs.models import Image
from flux2web.review.models import BODY_MAX, Comment, Notification, Reaction
from flux2web.review.notifications import notify

# "@name" where a username starts: not inside an e-mail address or a word. Django's
# usernames hold letters, digits and @ . + - _; a sentence's full stop is not part of one.
MENTION = re.compile(r"(?<![\w@.+-])@([\w.+-]*\w)")
MENTIONS_AT_MOST = 10
FIRST_WORDS = 80


class CommentRefused(Exception):
    """The comment cannot be saved; the message says why in plain words."""


# Text-direction overrides and isolates: they make a comment read other than it is written.
DIRECTION = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}
# Invisible spaces are dropped; the zero-width (non-)joiners stay (emoji and scripts need them).
INVISIBLE = {ord("\u200b"): None, ord("\ufeff"): None}


def clean_body(body: str) -> str:
    """The comment as it is kept: line breaks as "\n" (a browser sends "\r\n" but counts
    one character, as here), zero-width spaces dropped, stripped, 1..BODY_MAX characters,
    no control character but line break and tab, and no text-direction override."""
    body = (body or "").replace("\r\n", "\n").replace("\r", "\n").translate(INVISIBLE).strip()
    if not body or len(body) > BODY_MAX:
        raise CommentRefused(f"A comment is 1 to {BODY_MAX} characters of plain text.")
    if any((unicodedata.category(c) == "Cc" and c not in "\n\t") or c in DIRECTION for c in body):
        raise CommentRefused(
            "A comment is plain text: it cannot hold control characters or text-direction "
            "overrides."
        )
    return body


def mentioned_names(body: str) -> list[str]:
    """The usernames a comment mentions, lower-cased, once each, in order."""
    names = dict.fromkeys(name.lower() for name in MENTION.findall(body))
    return list(names)[:MENTIONS_AT_MOST]


def first_words(body: str, limit: int = FIRST_WORDS) -> str:
    flat = " ".join(body.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rsplit(" ", 1)[0] + "…"


def review_url(image_id: int) -> str:
    return reverse("review:image", args=[image_id])


def comment_add(*, image: Image, author, body: str) -> Comment:
    """A teammate's comment on an image they may see (the caller checked). The teammates it
    mentions, who may see the image too, are told; so is the image's owner."""
    comment = Comment.objects.create(image=image, author=author, body=clean_body(body))
    _tell(comment)
    return comment


def _tell(comment: Comment) -> None:
    image, author = comment.image, comment.author
    said = f"“{first_words(comment.body)}”"
    names = mentioned_names(comment.body)
    mentioned = []
    if names:
        wanted = models.Q()
        for name in names:
            wanted |= models.Q(username__iexact=name)
        found = get_user_model().objects.filter(wanted, is_active=True)
        mentioned = [user for user in found if image.is_seen_by(user)]
    url = review_url(image.pk)
    common = {"url": url, "actor": author, "image": image, "comment": comment}
    notify(recipients=mentioned, kind=Notification.Kind.MENTION,
           text=f"{author} mentioned you: {said}", **common)  # fmt: skip
    if image.owner_id not in {user.pk for user in mentioned}:
        notify(recipients=[image.owner], kind=Notification.Kind.IMAGE_COMMENT,
               text=f"{author} commented on your image: {said}", **common)  # fmt: skip


def deletable_by(user):
    """Comments this person may remove, and so the ones that show them a Delete button:

    - their own, always (even on an image they may no longer see);
    - any they may read on an image they own;
    - any they may read on an image in a collection they own ("a collection's owner may
      remove any on it"), the image owner's included;
    - a guest's, left through a link they own or a link to a collection they own.
    """
    readable = Comment.objects.readable_by(user).filter(
        models.Q(image__in=Image.objects.owned_by(user))
        | models.Q(
            image__in=CollectionItem.objects.filter(collection__owner=user).values("image_id")
        )
        | models.Q(reviewer__link__owner=user)
        | models.Q(reviewer__link__collection__owner=user)
    )
    return Comment.objects.filter(models.Q(author=user) | models.Q(pk__in=readable.values("pk")))


def comment_delete(*, comment: Comment) -> None:
    """The comment goes, and with it the notifications it caused."""
    comment.delete()


def like_set(*, image: Image, user, like: bool) -> bool:
    """Like (or stop liking) an image the person may see; True when something changed."""
    if like:
        return Reaction.objects.get_or_create(image=image, user=user)[1]
    return bool(Reaction.objects.filter(image=image, user=user).delete()[0])
