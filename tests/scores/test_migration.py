"""A database with jobs from before the record was kept gets it counted from their rows."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from flux2web.credentials.models import ProviderCredential
from flux2web.scores import tally
from flux2web.scores.models import Tally
from tests.helpers import latest, migrate

pytestmark = pytest.mark.django_db(transaction=True)


def before():
    """Every app as it is, and the record as it was before the migration counted it."""
    return [n for n in latest() if n[0] != "scores"] + [("scores", "0002_changed_at")]


def test_jobs_from_before_the_record_are_counted_by_the_migration(owner):
    kie = ProviderCredential.objects.create(name="KIE one", dialect="kie", base_url="http://x")
    old = migrate(before())
    OldJob = old.get_model("jobs", "Job")
    OldEvent = old.get_model("jobs", "JobEvent")
    now = timezone.now()
    sent = now - timedelta(minutes=5)

    def job(n, state, **columns):
        return OldJob.objects.create(owner_id=owner.pk, idempotency_key=f"k:{n}", model="pro",
                                     prompt="a fox", provider_id=kie.pk, state=state, price="0.05",
                                     **columns)  # fmt: skip

    job(1, "succeeded", submitted_at=sent, mirrored_at=sent + timedelta(seconds=14),
        finished_at=now, resolution="1K")  # fmt: skip
    job(2, "failed", submitted_at=sent, finished_at=now, error_class="content_policy")
    job(3, "failed", finished_at=now, error_class="credits")  # never accepted: not its own
    refused = job(4, "queued")
    said = f"{kie.name} refused: rate_limited: Too many requests"
    OldEvent.objects.create(job_id=refused.pk, kind="note", provider=kie.name, at=now, message=said)
    lost = job(5, "uncertain", error_class="ambiguous")
    OldEvent.objects.create(job_id=lost.pk, kind="state", from_state="submitting",
                            to_state="uncertain", at=now)  # fmt: skip

    migrate(latest())

    seen = tally.figures("24h")[(kie.pk, "pro")]
    assert (seen.attempts, seen.succeeded, seen.content, seen.refused, seen.lost) == (4, 1, 1, 1, 1)
    assert (seen.rate_limited, seen.median_seconds, seen.images) == (1, 14, 1)
    assert seen.list_per_image == seen.cost_per_image  # 0.05, KIE's list price for 1K

    # The command gives the same record again.
    counted = sorted(Tally.objects.values_list("span", "attempts", "seconds"))
    call_command("scores", "rebuild", "--batch", "2", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert sorted(Tally.objects.values_list("span", "attempts", "seconds")) == counted
