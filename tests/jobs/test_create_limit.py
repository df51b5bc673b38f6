"""Each account's create limit (KIE: 20 new tasks per 10 s, the rest refused and not queued)
is kept by pacing our creates under it, across every worker process; the sandbox enforces
it as KIE does."""

import io
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from flux2web.credentials.models import ProviderCredential
from flux2web.credentials.services import set_create_limit
from flux2web.jobs import services
from flux2web.jobs.models import Job
from tests.helpers import PASSWORD
from tests.jobs.factories import make_jobs, wait_until_done

S = Job.State


def kie():
    return ProviderCredential.objects.get(name="KIE.ai")


@pytest.mark.django_db
class TestPacingPerCredential:
    def test_creates_past_the_limit_wait_for_room_instead_of_being_refused(
        self, owner, providers, sandbox
    ):
        sandbox.config.create_limit = (3, 3)
        set_create_limit(providers["KIE.ai"], count=3, seconds=3)
        jobs = [make_jobs(owner, prompt=f"owl {n}", provider=kie())[0] for n in range(5)]

        started = timezone.now()
        outcomes = [services.submit_job(job_id=j.pk) for j in jobs]

        assert outcomes == ["submitted"] * 3 + ["waiting for room"] * 2
        assert sandbox.snapshot().get("rate_refused:kie", 0) == 0
        waiting = Job.objects.get(pk=jobs[3].pk)
        assert waiting.state == S.QUEUED and waiting.attempts == 0  # not a failed round
        # Next try when the window frees: after the first create's 3 s (plus a small margin),
        # however long the creates themselves took on a busy machine.
        first_sent = Job.objects.get(pk=jobs[0].pk).submitted_at
        assert (waiting.next_attempt_at - started).total_seconds() >= 3
        assert (waiting.next_attempt_at - first_sent).total_seconds() <= 3.6
        assert "takes 3 new tasks per 3 s" in waiting.events.last().message
        wait = (waiting.next_attempt_at - timezone.now()).total_seconds()

        time.sleep(wait + 0.05)
        assert [services.submit_job(job_id=j.pk) for j in jobs[3:]] == ["submitted"] * 2
        assert sandbox.snapshot()["tasks_created:kie"] == 5
        assert sandbox.snapshot().get("rate_refused:kie", 0) == 0

    def test_the_kie_dialect_is_paced_at_its_documented_limit_by_default(
        self, owner, providers, sandbox
    ):
        assert kie().create_limit == (20, 10)
        assert providers["Apixo"].create_limit is None  # none documented
        jobs = [make_jobs(owner, prompt=f"owl {n}", provider=kie())[0] for n in range(21)]
        outcomes = [services.submit_job(job_id=j.pk) for j in jobs]
        assert outcomes == ["submitted"] * 20 + ["waiting for room"]
        assert sandbox.snapshot().get("rate_refused:kie", 0) == 0

    def test_auto_sends_a_job_to_the_next_provider_with_room_now(self, owner, providers, sandbox):
        ProviderCredential.objects.filter(name="LiangXin").update(enabled=False)
        set_create_limit(providers["KIE.ai"], count=1, seconds=10)
        first, second = (
            make_jobs(owner, prompt=p, aspect_ratio="1:1")[0] for p in ("an owl", "a hare")
        )

        assert services.submit_job(job_id=first.pk) == "submitted"
        assert services.submit_job(job_id=second.pk) == "submitted"

        assert Job.objects.get(pk=first.pk).provider.name == "KIE.ai"
        second = Job.objects.get(pk=second.pk)
        assert second.provider.name == "Apikley"  # not waiting 10 s
        assert "Skipped KIE.ai: it takes 1 new task per 10 s and had sent them all" in " ".join(
            second.events.values_list("message", flat=True)
        )

    def test_no_limit_when_the_credential_says_none(self, owner, providers, sandbox):
        sandbox.config.create_limit = None  # this test is about our side only
        set_create_limit(providers["KIE.ai"], count=0, seconds=None)
        jobs = [make_jobs(owner, prompt=f"owl {n}", provider=kie())[0] for n in range(22)]
        assert {services.submit_job(job_id=j.pk) for j in jobs} == {"submitted"}


@pytest.mark.django_db
class TestEditingTheLimit:
    @pytest.fixture
    def admin_client(self, client, django_user_model):
        admin = django_user_model.objects.create_user("ada", password=PASSWORD,
                                                      is_team_admin=True)  # fmt: skip
        client.force_login(admin)
        return client

    def form(self, credential, **limit):
        return {"name": credential.name, "base_url": credential.base_url, "priority": "1",
                "enabled": "on", "models_offered": ["pro", "flex"], "price__pro__1K": "0.05",
                "price__pro__2K": "0.08", "price__flex__1K": "0.09", "price__flex__2K": "0.13",
                **limit}  # fmt: skip

    def test_an_admin_sets_a_paid_tiers_limit_on_the_provider_form(self, admin_client, providers):
        credential = providers["KIE.ai"]
        page = admin_client.get(f"/providers/{credential.pk}/").content.decode()
        assert "20 new tasks per 10 s (the vendor&#x27;s documented limit)" in page
        response = admin_client.post(
            f"/providers/{credential.pk}/",
            self.form(credential, create_limit_count="60", create_limit_seconds="10"),
        )
        assert response.status_code == 302
        assert kie().create_limit == (60, 10)

    def test_a_bad_limit_is_a_field_error_and_saves_nothing(self, admin_client, providers):
        credential = providers["KIE.ai"]
        html = admin_client.post(
            f"/providers/{credential.pk}/", self.form(credential, create_limit_count="20")
        ).content.decode()
        assert "Say per how many seconds" in html
        assert kie().create_limit_count is None

    def test_the_command_line_sets_and_resets_it(self, providers):
        out = io.StringIO()
        call_command("providers", "limit", "KIE.ai", "40/10", stdout=out)
        assert kie().create_limit == (40, 10)
        assert "40 new tasks per 10 s" in out.getvalue()
        call_command("providers", "limit", "KIE.ai", "none", stdout=out)
        assert kie().create_limit is None
        call_command("providers", "limit", "KIE.ai", "default", stdout=out)
        assert kie().create_limit == (20, 10)
        with pytest.raises(Exception, match="TASKS/SECONDS"):
            call_command("providers", "limit", "KIE.ai", "fast", stdout=out)

    def test_django_admin_goes_through_the_same_check(self, client, staff, providers):
        staff.is_superuser = True
        staff.save()
        client.force_login(staff)
        credential = providers["KIE.ai"]
        url = f"/admin/credentials/providercredential/{credential.pk}/change/"
        data = {"name": "KIE.ai", "dialect": "kie", "base_url": credential.base_url,
                "priority": "3", "api_key": "", "hmac_key": ""}  # fmt: skip
        bad = client.post(url, {**data, "create_limit_count": "5"})
        assert bad.status_code == 200 and "Say per how many seconds" in bad.content.decode()
        assert client.post(url, {**data, "create_limit_count": "5",
                                 "create_limit_seconds": "1"}).status_code == 302  # fmt: skip
        assert kie().create_limit == (5, 1)


@pytest.mark.django_db(transaction=True)
def test_a_30_image_batch_on_one_kie_key_all_succeeds_as_fast_as_the_limit_allows(
    owner, providers, sandbox, cluster, media
):
    # The sandbox refuses the 21st create in 10 s, as KIE does; two worker processes
    # share the one window through the database.
    assert sandbox.config.create_limit == (20, 10.0)
    jobs = [j for n in range(8) for j in make_jobs(owner, prompt=f"a heron {n}",
                                                  count=4 if n < 7 else 2,
                                                  provider=providers["KIE.ai"])]  # fmt: skip
    assert len(jobs) == 30
    cluster(workers=2)

    done = wait_until_done(jobs, timeout=90)

    assert [j.state for j in done] == [S.SUCCEEDED] * 30
    stats = sandbox.snapshot()
    assert stats.get("rate_refused:kie", 0) == 0
    assert stats["tasks_created:kie"] == stats["create_requests:kie"] == 30
    created = sorted(t.created for t in sandbox.tasks.values())
    # 20 at once, the last 10 once the first have left the window: no sooner, little later.
    assert 10 <= created[-1] - created[0] <= 13
    assert created[19] - created[0] < 3
    assert all(j.attempts == 0 for j in done)
    assert max(j.submitted_at for j in done) - min(j.submitted_at for j in done) < timedelta(
        seconds=13
    )
