"""What a share link's guests said, read for its owner: per link (the Sharing panel and My
share links), per reviewer and per image (the link's review page), and the picks as a list.
Read-only; a handful of grouped queries whatever the numbers of links, images, reviewers
and comments. Callers pass the link (this app stands below `links`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, IntegerField, Max, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from flux2web.jobs.models import Image
from flux2web.review.models import Comment, Pick, Reviewer


@dataclass(frozen=True)
class LinkSummary:
    """One link's review at a glance."""

    reviewers: int = 0
    confirmed: int = 0
    last_seen: datetime | None = None
    picks: int = 0
    picked_images: int = 0
    comments: int = 0

    @property
    def empty(self) -> bool:
        return not self.reviewers


def link_summaries(link_ids: Iterable[int]) -> dict[int, LinkSummary]:
    """Every given link's summary (links without guests get an empty one): three grouped
    queries, however many links."""
    ids = list(link_ids)
    if not ids:
        return {}
    people = {
        row["link_id"]: row
        for row in Reviewer.objects.filter(link_id__in=ids)
        .values("link_id")
        .annotate(n=Count("id"), confirmed=Count("confirmed_at"), last_seen=Max("last_seen_at"))
        .order_by()
    }
    picks = {
        row["reviewer__link_id"]: row
        for row in Pick.objects.filter(reviewer__link_id__in=ids)
        .values("reviewer__link_id")
        .annotate(n=Count("id"), images=Count("image_id", distinct=True))
        .order_by()
    }
    comments = {
        row["reviewer__link_id"]: row["n"]
        for row in Comment.objects.filter(reviewer__link_id__in=ids)
        .values("reviewer__link_id")
        .annotate(n=Count("id"))
        .order_by()
    }
    summaries = {}
    for pk in ids:
        who, picked = people.get(pk, {}), picks.get(pk, {})
        summaries[pk] = LinkSummary(
            reviewers=who.get("n", 0),
            confirmed=who.get("confirmed", 0),
            last_seen=who.get("last_seen"),
            picks=picked.get("n", 0),
            picked_images=picked.get("images", 0),
            comments=comments.get(pk, 0),
        )
    return summaries


def _count(model, **match):
    rows = model.objects.filter(reviewer=OuterRef("pk"), **match).order_by()
    counted = rows.values("reviewer").annotate(n=Count("id")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def reviewers_of(link) -> list[Reviewer]:
    """The link's guests, first come first, each with `picks_count` and `comments_count`."""
    return list(
        Reviewer.objects.filter(link=link).annotate(
            picks_count=_count(Pick), comments_count=_count(Comment)
        )
    )


@dataclass(frozen=True)
class Shown:
    """What the review needs of an image: its id, stored files' names and size."""

    pk: int
    thumbnail: str
    original: str
    width: int
    height: int

    @property
    def file_name(self) -> str:
        return self.original.rsplit("/", 1)[-1]


SHOWN_FIELDS = ("pk", "thumbnail", "original", "width", "height")


@dataclass(frozen=True)
class Said:
    """A guest's comment as the review shows it (plain values: there may be thousands)."""

    pk: int
    image_id: int | None
    reviewer: Reviewer
    body: str
    created_at: datetime

    @property
    def reviewer_id(self) -> int:
        return self.reviewer.pk


@dataclass
class ImageReview:
    image: Shown
    picked_by: list[Reviewer] = field(default_factory=list)
    comments: list[Said] = field(default_factory=list)
    in_link: bool = True  # False: picked or commented on, but the link no longer shows it

    @property
    def picks(self) -> int:
        return len(self.picked_by)


@dataclass
class LinkReview:
    reviewers: list[Reviewer]
    images: list[ImageReview]  # the link's images in its order, then any it no longer shows
    on_the_set: list[Said]  # guests' comments on the whole set

    @property
    def picked(self) -> list[ImageReview]:
        return [row for row in self.images if row.picked_by]

    def narrowed(self, *, picked_only: bool = False, reviewer: Reviewer | None = None):
        """The rows shown: only picked images, only one reviewer's picks and comments."""
        rows = self.images
        if reviewer is not None:
            rows = [
                ImageReview(
                    image=row.image,
                    picked_by=[r for r in row.picked_by if r.pk == reviewer.pk],
                    comments=[c for c in row.comments if c.reviewer_id == reviewer.pk],
                    in_link=row.in_link,
                )
                for row in rows
            ]
            rows = [row for row in rows if row.picked_by or row.comments]
        if picked_only:
            rows = [row for row in rows if row.picked_by]
        return rows


def link_review(link, *, images: Iterable[tuple], viewer) -> LinkReview:
    """The review of `link` over `images`, (id, thumbnail, original, width, height) of what
    it shows now in its order: who picked what and who said what. Picks and comments on
    images the link no longer shows follow, if `viewer` may still see them. Plain rows
    rather than model instances where there are hundreds; four queries, whatever the
    numbers."""
    reviewers = reviewers_of(link)
    by_id = {r.pk: r for r in reviewers}
    rows = {values[0]: ImageReview(image=Shown(*values)) for values in images}
    picks = list(
        Pick.objects.filter(reviewer__link=link)
        .order_by("created_at", "id")
        .values_list("image_id", "reviewer_id")
    )
    comments = [
        Said(pk, image_id, by_id[reviewer_id], body, at)
        for pk, image_id, reviewer_id, body, at in Comment.objects.filter(reviewer__link=link)
        .order_by("created_at", "id")
        .values_list("id", "image_id", "reviewer_id", "body", "created_at")
    ]
    missing = {pk for pk, _ in picks if pk not in rows}
    missing |= {c.image_id for c in comments if c.image_id and c.image_id not in rows}
    if missing:
        gone = Image.objects.visible_to(viewer).filter(pk__in=missing).order_by("pk")
        for values in gone.values_list(*SHOWN_FIELDS):
            rows[values[0]] = ImageReview(image=Shown(*values), in_link=False)
    for image_id, reviewer_id in picks:
        if image_id in rows:
            rows[image_id].picked_by.append(by_id[reviewer_id])
    on_the_set = []
    for comment in comments:
        if comment.image_id is None:
            on_the_set.append(comment)
        elif comment.image_id in rows:
            rows[comment.image_id].comments.append(comment)
    return LinkReview(reviewers=reviewers, images=list(rows.values()), on_the_set=on_the_set)
