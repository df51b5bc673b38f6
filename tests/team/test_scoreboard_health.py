"""The scoreboard says which providers Auto skips now, and why, in Auto's own words."""

from datetime import timedelta

import pytest
from django.utils import timezone

from flux2web.jobs.models import Job
from flux2web.scores import tally

pytestmark = pytest.mark.django_db


def test_the_scoreboard_names_a_provider_auto_skips_and_why(client, owner, providers):
    apixo = providers["Apixo"]
    tally.add(apixo.pk, "pro", tally.Outcome("vendor_error"))
    now = timezone.now()
    for n in range(6):
        Job.objects.create(owner=owner, idempotency_key=f"k{n}", model="pro", prompt="x",
                           provider=apixo, state=Job.State.FAILED,
                           submitted_at=now - timedelta(minutes=5),
                           finished_at=now - timedelta(seconds=n + 90))  # fmt: skip
    client.force_login(owner)

    html = client.get("/scoreboard/").content.decode()

    assert "Auto skips Apixo for now" in html
    assert "Apixo: 0 of its last 6 jobs succeeded in the last hour; one job goes to it" in html
    assert "Auto skips KIE.ai" not in html
