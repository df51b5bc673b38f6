"""A collection's activity: what was said and decided about its images, newest first. One
query per kind of event, whatever their number: each asks for no more than the page needs,
and the kinds are merged here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from flux2web.collections.models import Collection, CollectionItem
from flux2web.jobs.models import Image
from flux2web.review.models import Comment, Pick, Reviewer

PER_PAGE = 50
PAGES_AT_MOST = 100


@dataclass(frozen=True)
class Event:
    at: datetime
    who: str
    what: str  # plain words after the name: "added an image"
    guest: str = ""  # for a guest: "guest · <link label or title>"
    quote: str = ""  # a comment's text
    image_id: int | None = None


def guest_of(reviewer: Reviewer) -> str:
    """How a guest is named on the team's pages: never mistakable for a teammate."""
    link = reviewer.link
    return f"guest · {link.label or link.title}"


def activity(*, collection: Collection, viewer, page: int = 1) -> tuple[list[Event], bool]:
    """One page of events (PER_PAGE, newest first) and whether older ones exist. Teammates
    see comments they may read, marks and new images, all on images they may see; the
    collection's owner also sees guests' picks and confirmations and the links' events."""
    want = page * PER_PAGE + 1
    items = CollectionItem.objects.filter(
        collection=collection, image__in=Image.objects.visible_to(viewer)
    )
    found = _items(items, want) + _comments(collection, viewer, items, want)
    if collection.owner_id == viewer.pk:
        found += _guests(collection, want) + _links(collection)
    found.sort(key=lambda e: e.at, reverse=True)
    return found[(page - 1) * PER_PAGE : page * PER_PAGE], len(found) > page * PER_PAGE


def _items(items, want: int) -> list[Event]:
    added = items.select_related("added_by").order_by("-added_at", "-id")[:want]
    marked = (
        items.filter(marked_at__isnull=False)
        .exclude(mark="")
        .select_related("marked_by")
        .order_by("-marked_at", "-id")[:want]
    )
    events = [Event(i.added_at, str(i.added_by), "added an image", image_id=i.image_id)
              for i in added]  # fmt: skip
    events += [
        Event(i.marked_at, str(i.marked_by or "Someone"),
              f"marked an image “{i.get_mark_display()}”", image_id=i.image_id)
        for i in marked
    ]  # fmt: skip
    return events


def _comments(collection, viewer, items, want: int) -> list[Event]:
    comments = (
        Comment.objects.readable_by(viewer)
        .filter(
            # Teammates' comments on its images; guests' only through this collection's links
            # (the owner's other links to the same images have their own reviews).
            Q(reviewer__isnull=True, image__in=items.values("image_id"))
            | Q(reviewer__link__collection=collection)
        )
        .select_related("author", "reviewer__link")
        .order_by("-created_at", "-id")[:want]
    )
    return [
        Event(c.created_at, c.reviewer.name if c.reviewer_id else str(c.author),
              "commented on an image" if c.image_id else "commented on the whole set",
              guest=guest_of(c.reviewer) if c.reviewer_id else "", quote=c.body,
              image_id=c.image_id)
        for c in comments
    ]  # fmt: skip


def _guests(collection, want: int) -> list[Event]:
    picks = (
        Pick.objects.filter(reviewer__link__collection=collection)
        .select_related("reviewer__link")
        .order_by("-created_at", "-id")[:want]
    )
    confirmed = (
        Reviewer.objects.filter(link__collection=collection, confirmed_at__isnull=False)
        .select_related("link")
        .order_by("-confirmed_at", "-id")[:want]
    )
    events = [Event(p.created_at, p.reviewer.name, "picked an image",
                    guest=guest_of(p.reviewer), image_id=p.image_id) for p in picks]  # fmt: skip
    events += [Event(r.confirmed_at, r.name, "confirmed their picks", guest=guest_of(r))
               for r in confirmed]  # fmt: skip
    return events


def _links(collection) -> list[Event]:
    """Each link's creation, new address and revocation (a handful of links, read whole)."""
    who = str(collection.owner)
    events = []
    for link in collection.links.only("label", "title", "created_at", "rotated_at",
                                      "revoked_at"):  # fmt: skip
        name = f"“{link.label or link.title}”"
        events.append(Event(link.created_at, who, f"shared the collection by a link {name}"))
        if link.rotated_at:
            events.append(Event(link.rotated_at, who, f"changed the address of the link {name}"))
        if link.revoked_at:
            events.append(Event(link.revoked_at, who, f"revoked the link {name}"))
    return events
