"""The minute's maintenance (jobs/tasks.maintenance) also deletes what nothing reads any more."""

from datetime import timedelta

import pytest
from django.utils import timezone

from flux2web.jobs import tasks
from flux2web.scores.models import Refusal

pytestmark = pytest.mark.django_db


def test_refusals_older_than_the_longest_window_are_deleted(providers, monkeypatch):
    monkeypatch.setattr(tasks, "ensure_poller", lambda: False)  # no poller thread here
    kie = providers["KIE.ai"]
    now = timezone.now()
    for days in (40, 32, 29, 0):
        Refusal.objects.create(
            credential=kie, model="pro", at=now - timedelta(days=days), error_class="rate_limited"
        )
    tasks.maintenance()
    kept = sorted((now - at).days for at in Refusal.objects.values_list("at", flat=True))
    assert kept == [0, 29]  # the scoreboard's 30 days, and Auto's last hour, keep theirs
