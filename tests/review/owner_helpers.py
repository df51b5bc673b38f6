"""What the owner-side review tests share: a link's guests with picks and comments, made
straight in the tables (the guest side has its own tests), and a link with them."""

import hashlib
from datetime import timedelta

from django.utils import timezone

from flux2web.review.models import Comment, Pick, Reviewer
from tests.collections.factories import make_collection, make_image
from tests.links.factories import share


def guest(link, name, *, confirmed=False, seen_ago=timedelta(minutes=5)) -> Reviewer:
    """A reviewer of `link` (one browser), last seen `seen_ago`."""
    now = timezone.now()
    return Reviewer.objects.create(
        link=link,
        name=name,
        browser=hashlib.sha256(f"{link.pk}:{name}".encode()).hexdigest(),
        last_seen_at=now - seen_ago,
        confirmed_at=now - seen_ago if confirmed else None,
    )


def picks(reviewer, images) -> None:
    Pick.objects.bulk_create(Pick(reviewer=reviewer, image=image) for image in images)


def say(reviewer, body, image=None) -> Comment:
    """A guest's comment on an image, or on the whole set (no image)."""
    return Comment.objects.create(reviewer=reviewer, image=image, body=body)


def reviewed_link(owner, collection, images, **fields):
    """A link to `collection` whose two guests picked and said things: Ana picked the
    first two and confirmed, Ben picked the second; Ana commented on the second, Ben on the
    whole set. Returns (link, ana, ben)."""
    fields.setdefault("allow_picks", True)
    fields.setdefault("allow_comments", True)
    fields.setdefault("downloads", "web")
    link, _path = share(owner, collection=collection, label="Client A", **fields)
    ana = guest(link, "Ana", confirmed=True)
    ben = guest(link, "Ben", seen_ago=timedelta(hours=2))
    picks(ana, images[:2])
    picks(ben, images[1:2])
    say(ana, "the second, but warmer https://evil.example/x <b>bold</b>", images[1])
    say(ben, "All good; send the rest by Friday.")
    return link, ana, ben


def proofed_collection(owner, teammate, *, images: int, comments: int, reviewers: int):
    """A collection of `images` of the owner's images shared by a link with picks and
    comments on: `reviewers` guests who each pick up to five images and leave comments,
    and teammates' comments, `comments` in all (every third a teammate's). Returns
    (collection, link, its public path)."""
    pictures = [make_image(owner, size=(96 + n % 7, 64)) for n in range(images)]
    collection = make_collection(owner, pictures, title=f"Proofed {images}")
    link, path = share(owner, collection=collection, allow_picks=True, allow_comments=True,
                       show_reviewers=True, downloads="web")  # fmt: skip
    guests = [guest(link, f"Guest {n}", confirmed=n % 2 == 0) for n in range(reviewers)]
    for n, person in enumerate(guests):
        picks(person, [pictures[(n + k) % images] for k in range(min(5, images))])
    rows = []
    for n in range(comments):
        image = pictures[n % images]
        if n % 3 == 2:
            rows.append(Comment(author=teammate, image=image, body=f"team note {n}"))
        else:
            rows.append(Comment(reviewer=guests[n % reviewers], image=image, body=f"guest {n}"))
    Comment.objects.bulk_create(rows)
    return collection, link, path
