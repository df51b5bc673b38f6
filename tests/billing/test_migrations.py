"""Quotas and the ledger lived in the team app until billing became its own app below
jobs: a database made before the move migrates across without losing a limit or an
entry, and can go back."""

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType

from flux2web.billing import ledger
from flux2web.billing.models import LedgerEntry, Quota
from tests.helpers import latest, migrate
from tests.jobs.factories import make_jobs

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("team", "0002_ledger_adjust")]


def test_quotas_and_entries_made_in_the_team_app_are_billings_after_the_move(owner, providers):
    (job,) = make_jobs(owner, aspect_ratio="1:1")  # its reservation: $0.05
    old = migrate(BEFORE)
    with pytest.raises(LookupError):
        old.get_model("billing", "LedgerEntry")
    old.get_model("team", "Quota").objects.create(user_id=owner.pk, monthly_usd=Decimal("3"))
    old.get_model("team", "LedgerEntry").objects.create(
        job_id=job.pk, user_id=owner.pk, kind="hold", amount=Decimal("0.05"), delta=0,
        period=ledger.period_of(), note="answer lost; may be charged",
    )  # fmt: skip
    ContentType.objects.get_or_create(app_label="team", model="ledgerentry")

    migrate(latest())

    assert sorted(LedgerEntry.objects.filter(job=job).values_list("kind", flat=True)) == [
        "hold",
        "reserve",
    ]
    assert ledger.quota_for(owner).monthly_usd == Decimal("3")
    assert ledger.usage(owner).spent == Decimal("0.05")
    assert Quota.objects.get().user == owner
    # Permissions and admin history hang on the content type: it moved with the model.
    assert ContentType.objects.get_for_model(LedgerEntry).app_label == "billing"
    assert not ContentType.objects.filter(app_label="team", model="ledgerentry").exists()

    # And back: the rows are still there for the code before the move.
    old = migrate(BEFORE)
    assert old.get_model("team", "LedgerEntry").objects.count() == 2
    assert old.get_model("team", "Quota").objects.count() == 1
    migrate(latest())
