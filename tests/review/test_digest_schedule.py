"""The e-mail digest's schedule comes back if someone deletes it, as the pipeline's do."""

import pytest
from django.utils.module_loading import import_string
from django_q.models import Schedule

from flux2web.jobs.tasks import ensure_schedules

pytestmark = pytest.mark.django_db


def test_a_deleted_digest_schedule_is_made_again_once():
    Schedule.objects.filter(name="e-mail digests").delete()

    ensure_schedules()
    ensure_schedules()

    schedule = Schedule.objects.get(name="e-mail digests")
    assert schedule.schedule_type == Schedule.MINUTES and schedule.repeats == -1
    assert import_string(schedule.func)() == "0 sent"  # nothing is due
