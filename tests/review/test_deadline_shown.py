"""A guest is told when picking closes while it is still open, not only once it has."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.collections.factories import make_collection, make_image
from tests.review.guest_helpers import Visitor, proof_link

pytestmark = pytest.mark.django_db


def test_the_page_says_when_picking_closes_before_it_does(owner, media):
    deadline = timezone.now() + timedelta(days=2)
    _, path = proof_link(owner, collection=make_collection(owner, [make_image(owner)]),
                         picks_deadline=deadline)  # fmt: skip
    page = Visitor(path).open().content.decode()

    when = timezone.localtime(deadline)
    assert f"Picking closes on {when:%Y-%m-%d} at {when:%H:%M}" in page
    assert "Picking closed" not in page


def test_no_closing_line_without_a_deadline(owner, media):
    _, path = proof_link(owner, collection=make_collection(owner, [make_image(owner)]))
    assert "Picking closes" not in Visitor(path).open().content.decode()
