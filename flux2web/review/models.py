"""Review: what people say about images. Teammates comment and like; guests of a share link
(reviewers, under a name they give) pick favourites and comment; everyone is notified of
what concerns them. Marks on a collection's images are the collection's own
(`CollectionItem.mark`).

This app stands above `collections` and below `links`: a guest's rows name their link by
the string "links.ShareLink", and `links` calls the functions here."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from flux2web.jobs.models import Image

BODY_MAX = 2000
NAME_MAX = 60


class Reviewer(models.Model):
    """A guest reviewing through one share link, under the name they typed (unverified,
    always shown as a guest). Found again by the random value of a signed cookie for that
    link only; `browser` is its SHA-256, so a stolen database names no cookie."""

    link = models.ForeignKey("links.ShareLink", on_delete=models.CASCADE, related_name="reviewers")
    name = models.CharField(max_length=NAME_MAX)
    browser = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["link", "browser"], name="reviewer_once_per_browser")
        ]

    def __str__(self):
        return f"{self.name} (guest of link {self.link_id})"


class CommentQuerySet(models.QuerySet):
    def by_team(self):
        return self.filter(reviewer__isnull=True)

    def by_guests(self):
        return self.filter(reviewer__isnull=False)

    def readable_by(self, user):
        """Comments a signed-in person may read: teammates' comments on the images they may
        see, and guests' comments left through links they own or on collections they own
        (a link's review is for whoever shared it)."""
        return self.filter(
            models.Q(reviewer__isnull=True, image__in=Image.objects.visible_to(user))
            | models.Q(reviewer__link__owner=user)
            | models.Q(reviewer__link__collection__owner=user)
        )


class Comment(models.Model):
    """Plain text on an image, by a teammate (`author`) or a guest (`reviewer`). A guest may
    also comment on the whole set of their link (no image)."""

    image = models.ForeignKey(
        Image, null=True, blank=True, on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    reviewer = models.ForeignKey(
        Reviewer, null=True, blank=True, on_delete=models.CASCADE, related_name="comments"
    )
    body = models.TextField(max_length=BODY_MAX)
    created_at = models.DateTimeField(default=timezone.now)

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["image", "created_at"], name="comment_image_time"),
            models.Index(fields=["reviewer", "created_at"], name="comment_reviewer_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(author__isnull=False, reviewer__isnull=True, image__isnull=False)
                    | models.Q(author__isnull=True, reviewer__isnull=False)
                ),
                name="comment_by_teammate_on_image_or_by_guest",
            )
        ]

    def __str__(self):
        return f"Comment {self.pk} on image {self.image_id}"

    @property
    def by_guest(self) -> bool:
        return self.reviewer_id is not None


class Reaction(models.Model):
    """A teammate's like of an image: one per person and image."""

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["image", "user"], name="reaction_once")]

    def __str__(self):
        return f"Like of image {self.image_id} by {self.user_id}"


class Pick(models.Model):
    """A guest's favourite among their link's images."""

    reviewer = models.ForeignKey(Reviewer, on_delete=models.CASCADE, related_name="picks")
    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="picks")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["reviewer", "image"], name="pick_once")]
        indexes = [models.Index(fields=["image"], name="pick_image")]

    def __str__(self):
        return f"Pick of image {self.image_id} by reviewer {self.reviewer_id}"


class NotificationQuerySet(models.QuerySet):
    def for_reader(self, user):
        """A person's notifications that they may read now: the ones about no image (a
        guest's review of their link) or about an image they may still see. One about an
        image made private since is hidden from the list, the bell and the e-mail digest,
        and comes back (unread, still to be e-mailed) if the image is shown again."""
        return self.filter(recipient=user).filter(
            models.Q(image__isnull=True) | models.Q(image__in=Image.objects.visible_to(user))
        )

    def unread_count(self, user, cap: int) -> int:
        """How many of `for_reader(user)` are unread, counting `cap` at most: the same rule
        in two steps, because the bell asks on every page and building `for_reader`'s
        subquery costs more than running it. One plain query on the (recipient, read_at)
        index; a second, on the images, only when some unread ones are about an image."""
        unread = self.filter(recipient=user, read_at__isnull=True).order_by()
        about = list(unread.values_list("image_id", flat=True)[:cap])
        images = {pk for pk in about if pk is not None}
        if images:
            seen = set(
                Image.objects.visible_to(user).filter(pk__in=images).values_list("pk", flat=True)
            )
            about = [pk for pk in about if pk is None or pk in seen]
        return len(about)


class Notification(models.Model):
    """Something that concerns a person, shown under the bell and sent in an e-mail digest.
    `text` and `url` never carry a share token, a password or a prompt: only names, a
    comment's first words and an address inside the site the recipient may open."""

    class Kind(models.TextChoices):
        MENTION = "mention", "Someone mentions you"
        IMAGE_COMMENT = "image_comment", "A comment on your image"
        SELECTION = "selection", "A client confirms a selection"
        LINK_COMMENT = "link_comment", "A comment on your share link"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=200)
    # Unread notifications with the same key are one: a guest who comments twice and
    # confirms is one line under the bell (and one in the digest), brought up to date.
    key = models.CharField(max_length=80, blank=True)
    # What it is about, so deleting it deletes the notification too.
    image = models.ForeignKey(
        Image, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
            models.Index(fields=["emailed_at", "created_at"], name="notification_to_mail"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} for {self.recipient_id}"


class EmailOptOut(models.Model):
    """A kind of notification a person no longer wants by e-mail (the bell still shows it)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Notification.Kind.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="email_opt_out_once")]

    def __str__(self):
        return f"No {self.kind} e-mails for {self.user_id}"
