"""KIE's NSFW checker and Apixo's routing were columns of Job until vendor options became
one field (`Job.options`): a job asked for before keeps what it asked, and can go back."""

import pytest

from flux2web.jobs.models import Job
from tests.helpers import latest, migrate

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("jobs", "0012_request_nsfw_checker_and_route")]


def test_the_options_jobs_asked_for_as_columns_are_kept_in_their_options(owner):
    old = migrate(BEFORE)
    OldJob = old.get_model("jobs", "Job")
    asked = [{}, {"nsfw_checker": True}, {"route": "official"}]
    made = [
        OldJob.objects.create(
            owner_id=owner.pk, idempotency_key=f"k:{n}", model="pro", prompt="a fox", **columns
        ).pk
        for n, columns in enumerate(asked)
    ]

    migrate(latest())

    options = [Job.objects.get(pk=pk).options for pk in made]
    assert options == [{}, {"nsfw_checker": True}, {"route": "official"}]
    assert Job.objects.get(pk=made[2]).generation_request().options == {"route": "official"}

    # And back: the columns hold them again for the code before.
    old = migrate(BEFORE)
    OldJob = old.get_model("jobs", "Job")
    back = [(j.nsfw_checker, j.route) for j in OldJob.objects.order_by("pk")]
    assert back == [(False, ""), (True, ""), (False, "official")]
    migrate(latest())
