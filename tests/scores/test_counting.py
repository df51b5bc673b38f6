"""Jobs fill their providers' record as they end: real jobs through the sandbox over
loopback, each counted once, where it ended; refusals for the provider that refused; a lost
answer taken back when the task is found; and the record rebuilt from the jobs' rows."""

import json
import re
from decimal import Decimal

import pytest

from flux2web.jobs import actions, queue, services, tallies
from flux2web.jobs.models import Job
from flux2web.providers.sandbox import callback_body
from flux2web.scores import tally
from flux2web.scores.models import Tally
from tests.helpers import wait_for
from tests.jobs.factories import make_jobs, run_to_the_end

pytestmark = pytest.mark.django_db
S = Job.State


@pytest.fixture(autouse=True)
def private_sandbox(settings, sandbox):
    settings.ALLOWED_PRIVATE_HOSTS = frozenset({sandbox.url.removeprefix("http://")})


def record(credential, model="pro"):
    return tally.figures("24h").get((credential.pk, model))


def test_a_job_that_succeeds_is_counted_once_with_its_time_cost_and_list_price(
    owner, providers, sandbox, media
):
    kie = providers["KIE.ai"]
    kie.prices = {"pro": {"1K": "0.07"}}
    kie.save()
    sandbox.set_profile("kie:price=12")
    (job,) = make_jobs(owner, provider=kie, resolution="1K")

    job = run_to_the_end(job)

    assert job.state == S.SUCCEEDED
    seen = record(kie)
    assert (seen.attempts, seen.succeeded, seen.images) == (1, 1, 1)
    assert seen.cost_per_image == Decimal("0.07")  # what the ledger settled
    assert seen.list_per_image == Decimal("0.05")  # KIE's catalog price for 1K
    took = (job.mirrored_at - job.submitted_at).total_seconds()
    assert seen.median_seconds == round(took)
    # Both rows, the hour's and the day's, and nothing counted twice.
    assert sorted(Tally.objects.values_list("span", "attempts")) == [("day", 1), ("hour", 1)]
    # What KIE reports of its own task is kept on the job, and counted in the record.
    assert job.provider_credits == Decimal(12)
    assert job.provider_seconds == pytest.approx(0.3, abs=0.01)
    assert (seen.reported, seen.reported_per_image) == (1, Decimal(12))


def test_the_scoreboard_shows_what_the_vendor_reported_it_charged(
    client, owner, providers, sandbox, media
):
    kie, apixo = providers["KIE.ai"], providers["Apixo"]
    sandbox.set_profile("kie:price=12")
    for job in make_jobs(owner, provider=kie, resolution="1K", count=2):
        run_to_the_end(job)
    run_to_the_end(make_jobs(owner, provider=apixo)[0])  # Apixo reports no cost
    client.force_login(owner)

    page = client.get("/scoreboard/").content.decode()

    kie_row = re.search(r'<tr data-provider="KIE.ai" data-model="pro">(.*?)</tr>', page, re.S)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", kie_row.group(1)))
    assert "12 credits an image, as KIE.ai reported" in text
    apixo_row = re.search(r'<tr data-provider="Apixo" data-model="pro">(.*?)</tr>', page, re.S)
    assert " reported" not in re.sub(r"<[^>]+>", " ", apixo_row.group(1))
    assert "Charged per image" in page


def test_a_content_refusal_at_the_vendor_counts_as_content(owner, providers, sandbox, media):
    kie = providers["KIE.ai"]
    (job,) = make_jobs(owner, prompt="a fox [sandbox:content_violation]", provider=kie)

    job = run_to_the_end(job)

    assert job.state == S.FAILED
    seen = record(kie)
    assert (seen.attempts, seen.content, seen.vendor_error, seen.succeeded) == (1, 1, 0, 0)
    assert seen.success_rate == 0


def test_a_task_that_fails_at_the_vendor_is_a_vendor_error(owner, providers, sandbox, media):
    apixo = providers["Apixo"]
    (job,) = make_jobs(owner, prompt="a fox [sandbox:fail]", provider=apixo)

    run_to_the_end(job)

    seen = record(apixo)
    assert (seen.attempts, seen.vendor_error) == (1, 1)


def test_a_refused_create_counts_for_the_refuser_and_the_job_for_who_took_it(
    owner, providers, sandbox, media
):
    sandbox.inject("429", dialect="liangxin", retry_after=600)
    (job,) = make_jobs(owner)  # Auto: LiangXin first, then KIE.ai

    job = run_to_the_end(job)

    assert job.state == S.SUCCEEDED and job.provider.name == "KIE.ai"
    refuser = record(providers["LiangXin"])
    assert (refuser.attempts, refuser.refused, refuser.rate_limited) == (1, 1, 1)
    assert refuser.succeeded == 0
    taker = record(providers["KIE.ai"])
    assert (taker.attempts, taker.succeeded, taker.refused) == (1, 1, 0)


def test_a_job_every_provider_refused_is_counted_once_per_refusal(owner, providers, sandbox):
    kie = providers["KIE.ai"]
    (job,) = make_jobs(owner, prompt="a fox [sandbox:402]", provider=kie)

    assert services.submit_job(job_id=job.pk) == "failed"

    seen = record(kie)
    assert (seen.attempts, seen.refused, seen.rate_limited, seen.vendor_error) == (1, 1, 0, 0)
    assert Tally.objects.filter(span="hour").count() == 1


def test_a_cancel_before_sending_is_nobodys_record_and_one_while_running_is_counted(
    owner, providers, sandbox
):
    kie = providers["KIE.ai"]
    waiting, running = make_jobs(owner, provider=kie, count=2)
    assert actions.cancel_job(job_id=waiting.pk)[0]
    assert not Tally.objects.exists()

    assert services.submit_job(job_id=running.pk) == "submitted"
    assert actions.cancel_job(job_id=running.pk)[0]
    seen = record(kie)
    assert (seen.attempts, seen.cancelled, seen.success_rate) == (1, 1, None)


def test_a_lost_answer_counts_as_lost_and_is_taken_back_when_the_task_is_found(
    client, owner, providers, sandbox, media, settings, monkeypatch
):
    settings.PUBLIC_URL = "http://testserver"
    monkeypatch.setattr(queue, "enqueue", lambda func, job_id: None)
    kie = providers["KIE.ai"]
    (job,) = make_jobs(owner, prompt="a heron [sandbox:lost] [sandbox:no_callback]", provider=kie)
    assert services.submit_job(job_id=job.pk) == "uncertain"
    assert (record(kie).attempts, record(kie).lost) == (1, 1)
    (task,) = [t for t in sandbox.tasks.values() if t.prompt.startswith("a heron")]
    wait_for(lambda: task.phase(task.created + task.duration + 0.01)[0] == "success"
             and task.refs_checked.is_set())  # fmt: skip

    answer = client.post(f"/callbacks/{job.pk}/{job.callback_secret}/",
                         json.dumps(callback_body(task, sandbox)),
                         content_type="application/json")  # fmt: skip
    assert answer.status_code == 200
    assert (record(kie).attempts, record(kie).lost) == (0, 0)

    job = run_to_the_end(job)
    seen = record(kie)
    assert (seen.attempts, seen.lost, seen.succeeded) == (1, 0, 1)


def test_the_rebuilt_record_is_the_one_counted_as_jobs_ended(owner, providers, sandbox, media):
    sandbox.inject("429", dialect="liangxin", retry_after=600)
    sandbox.set_profile("kie:price=12")
    done = [run_to_the_end(j) for j in make_jobs(owner, count=2)]
    failed = run_to_the_end(make_jobs(owner, prompt="a fox [sandbox:fail]",
                                      provider=providers["Apixo"])[0])  # fmt: skip
    assert [j.state for j in done] == [S.SUCCEEDED] * 2 and failed.state == S.FAILED

    def rows():
        return sorted(
            Tally.objects.values_list("credential_id", "model", "span", "start", "attempts",
                                      "succeeded", "refused", "rate_limited", "vendor_error",
                                      "images", "charged", "listed", "seconds", "reported",
                                      "reported_credits")
        )  # fmt: skip

    counted = rows()
    Tally.objects.all().delete()

    assert tallies.rebuild(batch=1) == len(counted)  # one job a batch: batches join up
    assert rows() == counted
    assert tallies.rebuild() == len(counted)  # run again: replaced, not added to
    assert rows() == counted


def test_a_create_refused_under_the_content_rules_counts_as_content_once(owner, providers, sandbox):
    apixo = providers["Apixo"]
    (job,) = make_jobs(owner, prompt="a fox [sandbox:403_content]", provider=apixo)

    assert services.submit_job(job_id=job.pk) == "failed"

    seen = record(apixo)
    assert (seen.attempts, seen.content, seen.refused) == (1, 1, 0)


def test_a_rebuild_keeps_the_refusals_of_a_provider_renamed_since(owner, providers, sandbox, media):
    sandbox.inject("429", dialect="liangxin", retry_after=600)
    run_to_the_end(make_jobs(owner)[0])  # LiangXin refuses (a 429), KIE.ai takes it
    liangxin = providers["LiangXin"]
    liangxin.name = "LiangXin (old key)"
    liangxin.save()

    tallies.rebuild()

    seen = record(liangxin)
    assert (seen.attempts, seen.refused, seen.rate_limited) == (1, 1, 1)
