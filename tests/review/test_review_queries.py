"""The pages a proofed collection is seen through ask the database as many times for a
big collection as for a small one: its page, its Sharing panel, its link's review page and
the public share page, with images, comments (team and guests') and reviewers seeded in
both sizes. bench/pages.py times them; this holds their query counts."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.review.owner_helpers import proofed_collection

pytestmark = pytest.mark.django_db

SMALL = {"images": 2, "comments": 3, "reviewers": 1}
LARGE = {"images": 24, "comments": 90, "reviewers": 6}


def pages(collection, link, path):
    """(name, who asks, address) of each page a proofed collection is seen through."""
    return [
        ("collection page", "owner", reverse("sharing:collection", args=[collection.pk])),
        ("sharing panel", "owner", reverse("share:collection_sharing", args=[collection.pk])),
        ("review page", "owner", reverse("share:review", args=[link.pk])),
        ("public page", "visitor", path),
    ]


def queries(client, url) -> int:
    """One request's queries, after a first that warms what any request warms (a session,
    compiled templates) and with every kept page forgotten, as after a change."""
    assert client.get(url).status_code == 200, url
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def counts(owner, world) -> dict[str, int]:
    signed_in = Client()
    signed_in.force_login(owner)
    visitor = Client(HTTP_USER_AGENT="Mozilla/5.0 (iPhone)")
    clients = {"owner": signed_in, "visitor": visitor}
    return {name: queries(clients[who], url) for name, who, url in pages(*world)}


def test_query_counts_do_not_grow_with_images_comments_and_reviewers(owner, teammate, media):
    small = proofed_collection(owner, teammate, **SMALL)
    large = proofed_collection(owner, teammate, **LARGE)
    big, few = counts(owner, large), counts(owner, small)
    assert big == few


def test_the_seeded_review_is_really_there(owner, teammate, media):
    """The comparison above means something only if the big one shows its review."""
    collection, link, _path = proofed_collection(owner, teammate, **LARGE)
    client = Client()
    client.force_login(owner)
    page = client.get(reverse("share:review", args=[link.pk])).content.decode()
    assert page.count('class="review-comment"') == 60  # two in three of 90 are guests'
    assert "Guest 5 · guest" in page
    panel = client.get(reverse("share:collection_sharing", args=[collection.pk])).content.decode()
    assert "6 reviewers · 30 picks of 10 images · 60 comments · 3 confirmed" in panel
