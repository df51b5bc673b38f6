"""The pipeline's domain functions, called directly against the sandbox over loopback."""

import time
from datetime import timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from flux2web.credentials.models import ProviderCredential
from flux2web.jobs import following, mirroring, recovery, services
from flux2web.jobs.models import Image, Job, JobEvent
from flux2web.providers.types import ErrorClass, GenerationRequest, Model
from tests.jobs.factories import make_jobs, run_to_the_end

pytestmark = pytest.mark.django_db
S = Job.State


@pytest.fixture(autouse=True)
def private_sandbox(settings, sandbox):
    settings.ALLOWED_PRIVATE_HOSTS = frozenset({sandbox.url.removeprefix("http://")})


class TestCreating:
    def test_the_same_key_makes_the_jobs_once(self, owner, providers):
        spec = services.JobSpec(GenerationRequest(model=Model.PRO, prompt="a fox"), count=3)
        first = services.create_jobs(owner=owner, spec=spec, idempotency_key="k1")
        again = services.create_jobs(owner=owner, spec=spec, idempotency_key="k1")
        assert [j.pk for j in again] == [j.pk for j in first]
        assert Job.objects.count() == 3
        assert len({j.batch_id for j in first}) == 1

    def test_a_long_key_still_makes_the_jobs_once(self, owner, providers):
        spec = services.JobSpec(GenerationRequest(model=Model.PRO, prompt="a fox"))
        key = "k:" + "x" * 500
        first = services.create_jobs(owner=owner, spec=spec, idempotency_key=key)
        again = services.create_jobs(owner=owner, spec=spec, idempotency_key=key)
        assert [j.pk for j in again] == [j.pk for j in first]
        assert len(first[0].idempotency_key) <= 80

    def test_keys_belong_to_their_owner(self, owner, teammate, providers):
        spec = services.JobSpec(GenerationRequest(model=Model.PRO, prompt="a fox"))
        services.create_jobs(owner=owner, spec=spec, idempotency_key="same")
        services.create_jobs(owner=teammate, spec=spec, idempotency_key="same")
        assert Job.objects.count() == 2

    def test_a_refused_request_creates_nothing_and_says_every_reason(self, owner, providers):
        spec = services.JobSpec(
            GenerationRequest(model=Model.FLEX, prompt="ab", aspect_ratio="5:4"),
            provider=providers["Apixo"],
        )
        with pytest.raises(services.JobRefused) as caught:
            services.create_jobs(owner=owner, spec=spec, idempotency_key="x")
        assert [p.field for p in caught.value.problems] == ["prompt", "aspect_ratio"]
        assert not Job.objects.exists()

    @pytest.mark.parametrize("count", [0, 5])
    def test_one_to_four_images_at_a_time(self, owner, providers, count):
        spec = services.JobSpec(GenerationRequest(model=Model.PRO, prompt="a fox"), count=count)
        with pytest.raises(services.JobRefused, match="1 to 4"):
            services.create_jobs(owner=owner, spec=spec, idempotency_key="x")

    def test_auto_picks_the_first_provider_that_can_take_the_request(self, owner, providers):
        # 21:9 only LiangXin offers; auto needs a reference; flex is not on LiangXin.
        assert (
            services.check_spec(
                services.JobSpec(
                    GenerationRequest(model=Model.PRO, prompt="a fox", aspect_ratio="21:9")
                )
            )
            == []
        )
        problems = services.check_spec(
            services.JobSpec(
                GenerationRequest(model=Model.FLEX, prompt="a fox", aspect_ratio="21:9")
            )
        )
        assert [p.field for p in problems] == ["aspect_ratio"]  # fmt: skip

    def test_a_disabled_provider_cannot_be_chosen(self, owner, providers):
        providers["KIE.ai"].enabled = False
        providers["KIE.ai"].save()
        spec = services.JobSpec(GenerationRequest(model=Model.PRO, prompt="a fox"),
                                provider=providers["KIE.ai"])  # fmt: skip
        with pytest.raises(services.JobRefused, match=r"KIE\.ai is disabled"):
            services.create_jobs(owner=owner, spec=spec, idempotency_key="x")

    def test_the_price_is_the_chosen_providers(self, owner, providers):
        (job,) = make_jobs(owner, model=Model.FLEX, resolution="2K", provider=providers["Apixo"])
        assert job.price == Decimal("0.13")


class TestSubmitting:
    def test_a_job_is_submitted_once_however_often_the_task_runs(self, owner, providers, sandbox):
        (job,) = make_jobs(owner, provider=providers["KIE.ai"])
        assert services.submit_job(job_id=job.pk) == "submitted"
        assert services.submit_job(job_id=job.pk) == "not claimed"
        assert sandbox.snapshot()["create_requests:kie"] == 1

    def test_every_provider_refusing_is_retried_in_rounds_then_failed(
        self, owner, providers, sandbox
    ):
        sandbox.inject("429", times=100, retry_after=0)
        (job,) = make_jobs(owner, aspect_ratio="1:1")
        outcomes = []
        for _ in range(services.SUBMIT_ROUNDS):
            outcomes.append(services.submit_job(job_id=job.pk))
            Job.objects.filter(pk=job.pk).update(next_attempt_at=timezone.now())
        assert outcomes == ["retry later"] * (services.SUBMIT_ROUNDS - 1) + ["failed"]
        job.refresh_from_db()
        assert job.state == S.FAILED
        assert job.error_class == ErrorClass.RATE_LIMITED
        assert f"refused {services.SUBMIT_ROUNDS} times" in job.error_message
        # Each round tried all five providers, in priority order.
        assert sandbox.snapshot()["create_requests:liangxin"] == services.SUBMIT_ROUNDS
        assert sandbox.snapshot()["create_requests:apimart"] == services.SUBMIT_ROUNDS

    def test_a_named_provider_refusing_every_round_is_named_not_every_provider(
        self, owner, providers, sandbox
    ):
        sandbox.inject("500", times=100)
        (job,) = make_jobs(owner, aspect_ratio="1:1", provider=providers["Apixo"])
        for _ in range(services.SUBMIT_ROUNDS):
            services.submit_job(job_id=job.pk)
            Job.objects.filter(pk=job.pk).update(next_attempt_at=timezone.now())
        job.refresh_from_db()
        assert job.state == S.FAILED
        assert job.error_message.startswith(f"Apixo refused {services.SUBMIT_ROUNDS} times;")
        assert "create_requests:liangxin" not in sandbox.snapshot()

    def test_a_retry_waits_for_its_time(self, owner, providers, sandbox):
        sandbox.inject("500", times=100)
        (job,) = make_jobs(owner, aspect_ratio="1:1")
        services.submit_job(job_id=job.pk)
        job.refresh_from_db()
        assert job.state == S.QUEUED and job.attempts == 1
        assert job.next_attempt_at > timezone.now() + timedelta(seconds=20)
        assert services.submit_job(job_id=job.pk) == "not claimed"

    def test_no_enabled_provider_fails_the_job_with_the_reason(self, owner, providers):
        (job,) = make_jobs(owner)
        ProviderCredential.objects.update(enabled=False)
        assert services.submit_job(job_id=job.pk) == "failed"
        job.refresh_from_db()
        assert "cannot take FLUX.2 pro" in job.error_message


class TestFollowing:
    def test_a_job_runs_to_stored_images(self, owner, providers, media):
        (job,) = make_jobs(owner, provider=providers["LiangXin"], width=640, height=480, seed=1)
        job = run_to_the_end(job)
        assert job.state == S.SUCCEEDED
        image = job.images.get()
        assert (image.width, image.height) == (640, 480)
        assert default_storage.exists(image.original.name)

    def test_polls_follow_the_vendor_schedule(self, owner, providers, sandbox):
        sandbox.config.duration = 60
        (job,) = make_jobs(owner, provider=providers["Apixo"])
        services.submit_job(job_id=job.pk)
        job.refresh_from_db()
        # Apixo: first poll 15 s after submission.
        assert 14 <= (job.next_poll_at - job.submitted_at).total_seconds() <= 16
        assert following.poll_due() == 0  # not due yet
        following.poll_due(job_ids=[job.pk], due_only=False)
        job.refresh_from_db()
        assert job.state == S.RUNNING and job.provider_state in ("pending", "processing")
        assert 4 <= (job.next_poll_at - timezone.now()).total_seconds() <= 16

    def test_a_task_that_never_ends_times_out_at_the_vendors_give_up(self, owner, providers):
        (job,) = make_jobs(owner, prompt="a fox [sandbox:never]", provider=providers["Apixo"])
        services.submit_job(job_id=job.pk)
        Job.objects.filter(pk=job.pk).update(submitted_at=timezone.now() - timedelta(minutes=4))
        following.poll_due(job_ids=[job.pk], due_only=False)
        job.refresh_from_db()
        assert job.state == S.TIMED_OUT
        assert job.error_class == ErrorClass.TIMEOUT
        assert "after 3 minutes" in job.error_message

    def test_a_rate_limited_poll_waits_as_long_as_asked(self, owner, providers, sandbox):
        (job,) = make_jobs(owner, provider=providers["KIE.ai"])
        services.submit_job(job_id=job.pk)
        sandbox.inject("429", dialect="kie", on="status", retry_after=45)
        following.poll_due(job_ids=[job.pk], due_only=False)
        job.refresh_from_db()
        assert job.state == S.RUNNING
        assert (job.next_poll_at - timezone.now()).total_seconds() > 40

    def test_two_passes_cannot_poll_the_same_job(self, owner, providers):
        (job,) = make_jobs(owner, provider=providers["KIE.ai"])
        services.submit_job(job_id=job.pk)
        now = timezone.now() + timedelta(seconds=10)
        assert [pk for pk, _ in following.claim_due(now)] == [job.pk]
        assert following.claim_due(now) == []


class TestCancelling:
    def test_a_queued_job_is_cancelled_before_anything_is_sent(self, owner, providers, sandbox):
        (job,) = make_jobs(owner)
        cancelled, message = services.cancel_job(job_id=job.pk)
        assert cancelled and "before anything was sent" in message
        assert services.submit_job(job_id=job.pk) == "not claimed"
        assert not any(k.startswith("create_requests") for k in sandbox.snapshot())

    def test_a_running_job_stops_being_followed(self, owner, providers, sandbox):
        sandbox.config.duration = 60
        (job,) = make_jobs(owner, provider=providers["KIE.ai"])
        services.submit_job(job_id=job.pk)
        cancelled, message = services.cancel_job(job_id=job.pk)
        assert cancelled
        assert "may still finish and be charged" in message
        assert following.poll_due(job_ids=[job.pk], due_only=False) == 0
        job.refresh_from_db()
        assert job.state == S.CANCELLED and job.next_poll_at is None

    def test_a_finished_job_cannot_be_cancelled(self, owner, providers, media):
        (job,) = make_jobs(owner, provider=providers["KIE.ai"])
        run_to_the_end(job)
        assert services.cancel_job(job_id=job.pk) == (False, "A succeeded job cannot be cancelled.")


class TestRecovery:
    def test_a_crash_before_sending_queues_the_job_again(self, owner, providers):
        (job,) = make_jobs(owner)
        Job.objects.filter(pk=job.pk).update(
            state=S.SUBMITTING, claimed_at=timezone.now() - timedelta(minutes=5)
        )
        assert recovery.reconcile()["requeued"] == 1
        assert Job.objects.get(pk=job.pk).state == S.QUEUED

    def test_a_crash_while_sending_makes_the_job_uncertain(self, owner, providers):
        (job,) = make_jobs(owner)
        Job.objects.filter(pk=job.pk).update(
            state=S.SUBMITTING, provider=providers["KIE.ai"],
            claimed_at=timezone.now() - timedelta(minutes=5),
        )  # fmt: skip
        assert recovery.reconcile()["uncertain"] == 1
        job.refresh_from_db()
        assert job.state == S.UNCERTAIN
        assert "while sending this job to KIE.ai" in job.error_message

    def test_a_submit_in_progress_is_left_alone(self, owner, providers):
        (job,) = make_jobs(owner)
        Job.objects.filter(pk=job.pk).update(state=S.SUBMITTING, claimed_at=timezone.now(),
                                             provider=providers["KIE.ai"])  # fmt: skip
        recovery.reconcile()
        assert Job.objects.get(pk=job.pk).state == S.SUBMITTING

    def test_a_running_job_without_a_next_poll_is_due_now(self, owner, providers):
        (job,) = make_jobs(owner, provider=providers["KIE.ai"])
        services.submit_job(job_id=job.pk)
        Job.objects.filter(pk=job.pk).update(next_poll_at=None)
        recovery.reconcile()
        assert Job.objects.get(pk=job.pk).next_poll_at <= timezone.now()

    def test_images_whose_files_vanished_are_mirrored_again(self, owner, providers, media):
        (job,) = make_jobs(owner, provider=providers["KIE.ai"])
        job = run_to_the_end(job)
        image = job.images.get()
        Job.objects.filter(pk=job.pk).update(
            state=S.MIRRORING, updated_at=timezone.now() - timedelta(minutes=2)
        )
        Path(settings.MEDIA_ROOT, image.original.name).unlink()
        fixed = recovery.reconcile()
        assert fixed["missing_files"] == 1
        image.refresh_from_db()
        assert image.status == Image.Status.PENDING
        mirroring.mirror_job(job_id=job.pk)
        image.refresh_from_db()
        assert image.status == Image.Status.MIRRORED
        assert default_storage.exists(image.original.name)
        assert Job.objects.get(pk=job.pk).state == S.SUCCEEDED


def test_events_are_append_only(owner, providers):
    (job,) = make_jobs(owner)
    event = JobEvent.objects.filter(job=job).first()
    event.message = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        event.save()


class TestDispatching:
    @pytest.fixture(autouse=True)
    def broker(self, monkeypatch):
        """A broker of our own: the real one (Redis in CI) keeps other tests' tasks."""
        from flux2web.jobs import dispatch, queue

        sent = []
        monkeypatch.setattr(queue, "enqueue", lambda func, job_id: sent.append(job_id))
        monkeypatch.setattr(dispatch, "broker_backlog", lambda: 0)
        return sent

    def test_submits_are_paced_to_the_site_wide_rate(self, owner, providers, settings):
        settings.SUBMIT_RATE = 4  # one every 0.25 s, dispatched up to a second ahead
        jobs = [j for n in range(3) for j in make_jobs(owner, prompt=f"paced {n}", count=4)]
        Job.objects.update(dispatched_at=None)  # as if nothing went out on commit
        now = timezone.now()
        assert services.dispatch_submits(now=now) == 5  # now, +0.25, +0.5, +0.75, +1.0
        sent = Job.objects.filter(dispatched_at__isnull=False).order_by("dispatched_at")
        moments = [(m - now).total_seconds() for m in sent.values_list("dispatched_at", flat=True)]
        assert moments == [0, 0.25, 0.5, 0.75, 1.0]
        assert list(sent.values_list("pk", flat=True)) == [j.pk for j in jobs[:5]]  # oldest first
        assert services.dispatch_submits(now=now + timedelta(seconds=0.1)) == 0  # booked up
        assert services.dispatch_submits(now=now + timedelta(seconds=0.6)) == 2

    def test_a_teammates_single_image_is_sent_within_seconds_not_after_a_batch_of_60(
        self, owner, teammate, providers, settings
    ):
        settings.SUBMIT_RATE = 4  # a batch of 60 takes 15 s to go out
        batch = [j for n in range(15) for j in make_jobs(owner, prompt=f"batch {n}", count=4)]
        Job.objects.update(dispatched_at=None)
        start = clock = timezone.now()
        sent_at = {}

        def pass_at(moment):
            """A poller pass: dispatch, then the submit tasks take the jobs out of the queue."""
            services.dispatch_submits(now=moment)
            for pk, at in Job.objects.filter(
                state=S.QUEUED, dispatched_at__isnull=False
            ).values_list("pk", "dispatched_at"):
                sent_at[pk] = (at - start).total_seconds()
            Job.objects.filter(pk__in=sent_at, state=S.QUEUED).update(state=S.RUNNING)

        for _ in range(8):  # two seconds into the batch, the teammate asks for one image
            pass_at(clock)
            clock += timedelta(seconds=0.25)
        (single,) = make_jobs(teammate, prompt="just one")
        Job.objects.filter(pk=single.pk).update(dispatched_at=None)
        while len(sent_at) < len(batch) + 1:
            pass_at(clock)
            clock += timedelta(seconds=0.25)

        assert sent_at[single.pk] - 2 < 1.5  # its turn came at once, at the pace allowed
        assert max(sent_at[j.pk] for j in batch) > 14  # the batch still kept the pace
        moments = sorted(sent_at.values())
        assert all(b - a >= 0.25 - 1e-6 for a, b in pairwise(moments))

    def test_a_paced_submit_waits_for_its_moment(self, owner, providers):
        (job,) = make_jobs(owner, prompt="wait for it")
        Job.objects.filter(pk=job.pk).update(dispatched_at=timezone.now() + timedelta(seconds=0.3))
        started = time.monotonic()
        services.wait_for_slot(job.pk)
        assert 0.25 < time.monotonic() - started < 0.6

    def test_no_pacing_when_the_rate_is_zero(self, owner, providers, settings, broker):
        settings.SUBMIT_RATE = 0
        jobs = make_jobs(owner, prompt="unpaced", count=4)
        Job.objects.update(dispatched_at=None)
        assert services.dispatch_submits() == 4
        assert broker == [j.pk for j in jobs]


def test_a_provider_message_with_a_nul_byte_is_stored_without_it(owner, providers):
    # PostgreSQL refuses NUL in text: a provider saying "bad\u0000" made the failure (and
    # the job with it) impossible to save there.
    (job,) = make_jobs(owner, prompt="a NUL in the answer")
    Job.objects.filter(pk=job.pk).update(state=Job.State.SUBMITTING)
    assert services.transition(job.pk, from_states=[Job.State.SUBMITTING], to=Job.State.FAILED,
                               message="refused: bad\x00 prompt",
                               error_message="bad\x00 prompt")  # fmt: skip
    job.refresh_from_db()
    assert job.error_message == "bad prompt"
    assert "\x00" not in job.events.last().message


@pytest.mark.django_db(transaction=True)
def test_deleting_a_job_inside_a_transaction_that_rolls_back_keeps_its_files(
    owner, providers, media
):
    from django.db import transaction

    from tests.jobs.factories import finish

    (job,) = make_jobs(owner)
    finish(job)
    image = job.images.get()
    name = image.original.name
    with pytest.raises(RuntimeError), transaction.atomic():
        services.delete_job(job_id=job.pk)
        raise RuntimeError("the caller's next step failed")
    assert image.original.storage.exists(name)
    job.refresh_from_db()
    assert job.deleted_at is None and job.images.count() == 1
    services.delete_job(job_id=job.pk)  # committed this time: the files go
    assert not image.original.storage.exists(name)
