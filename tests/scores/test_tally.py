"""The providers' record: counted per hour and day, read back over a window."""

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from flux2web.credentials.models import ProviderCredential
from flux2web.scores import tally
from flux2web.scores.models import Tally

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 7, 15, 30, tzinfo=UTC)


@pytest.fixture
def kie():
    return ProviderCredential.objects.create(name="KIE one", dialect="kie", base_url="http://x")


def ok(seconds, images=1, charged="0.05", listed="0.05"):
    return tally.Outcome(
        "succeeded",
        seconds=seconds,
        images=images,
        charged=Decimal(charged),
        listed=Decimal(listed),
    )


def test_an_attempt_counts_in_its_hour_and_its_day(kie):
    tally.add(kie.pk, "pro", ok(14.4), at=NOW)
    tally.add(kie.pk, "pro", ok(15.6, images=2, charged="0.12"), at=NOW)
    tally.add(kie.pk, "pro", tally.Outcome("refused", rate_limited=True), at=NOW)
    hour = Tally.objects.get(span="hour")
    day = Tally.objects.get(span="day")
    assert hour.start == NOW.replace(minute=30 - 30)
    assert day.start == NOW.replace(hour=0, minute=0)
    for row in (hour, day):
        assert (row.attempts, row.succeeded, row.refused, row.rate_limited) == (3, 2, 1, 1)
        assert row.images == 3 and row.charged == Decimal("0.17")
        assert row.seconds == {"14": 1, "16": 1}


def test_undo_takes_an_attempt_back(kie):
    tally.add(kie.pk, "pro", tally.Outcome("lost"), at=NOW)
    tally.add(kie.pk, "pro", tally.Outcome("lost"), at=NOW, undo=True)
    assert Tally.objects.get(span="hour").lost == 0


def test_windows_read_only_their_buckets(kie):
    tally.add(kie.pk, "pro", ok(10), at=NOW)
    tally.add(kie.pk, "pro", ok(20), at=NOW - timedelta(hours=23))
    tally.add(kie.pk, "pro", ok(30), at=NOW - timedelta(hours=25))
    tally.add(kie.pk, "pro", tally.Outcome("content"), at=NOW - timedelta(days=8))
    day = tally.figures("24h", now=NOW)[(kie.pk, "pro")]
    assert (day.succeeded, day.median_seconds) == (2, 10)
    week = tally.figures("7d", now=NOW)[(kie.pk, "pro")]
    assert (week.succeeded, week.content, week.p95_seconds) == (3, 0, 30)
    month = tally.figures("30d", now=NOW)[(kie.pk, "pro")]
    assert (month.attempts, month.content, month.success_rate) == (4, 1, 0.75)


def test_percentiles_are_nearest_rank():
    times = Counter({"1": 1, "2": 1, "3": 1, "4": 1, "100": 1})
    assert tally.percentile(times, 0.5) == 3
    assert tally.percentile(times, 0.95) == 100
    assert tally.percentile(Counter(), 0.5) is None


@pytest.mark.django_db(transaction=True)
def test_a_time_can_be_counted_outside_a_transaction(kie):
    """Its row is locked while its times are read and written: PostgreSQL refuses that
    lock outside a transaction, so `add` makes its own when the caller has none."""
    tally.add(kie.pk, "pro", ok(12), at=NOW)
    assert Tally.objects.get(span="day").seconds == {"12": 1}
