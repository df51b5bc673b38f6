"""The database-kept throttle windows: counted, refused past the limit, given back, reset
when the window ends, and forgotten once ended."""

from datetime import timedelta

import pytest
from django.utils import timezone

from flux2web.core import throttle
from flux2web.core.models import ThrottleWindow

pytestmark = pytest.mark.django_db


def test_tries_past_the_limit_are_refused_until_the_window_ends():
    assert [throttle.take("k", limit=2, seconds=60) for _ in range(2)] == [0, 0]
    wait = throttle.take("k", limit=2, seconds=60)
    assert 59 < wait <= 60
    assert throttle.take("other", limit=2, seconds=60) == 0  # keys count apart
    ThrottleWindow.objects.filter(key="k").update(ends_at=timezone.now())
    assert throttle.take("k", limit=2, seconds=60) == 0
    assert ThrottleWindow.objects.get(key="k").count == 1


def test_a_try_given_back_frees_its_place_but_never_goes_below_zero():
    throttle.take("k", limit=1, seconds=60)
    throttle.give_back("k")
    throttle.give_back("k")
    assert ThrottleWindow.objects.get(key="k").count == 0
    assert throttle.take("k", limit=1, seconds=60) == 0
    assert throttle.take("k", limit=1, seconds=60) > 0


def test_ended_windows_are_forgotten_when_a_new_key_is_counted():
    throttle.take("old", limit=1, seconds=60)
    throttle.take("live", limit=1, seconds=60)
    ThrottleWindow.objects.filter(key="old").update(ends_at=timezone.now() - timedelta(1))
    throttle.take("new", limit=1, seconds=60)
    assert set(ThrottleWindow.objects.values_list("key", flat=True)) == {"live", "new"}
