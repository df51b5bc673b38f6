"""The vendor review's findings at the job level: the studio's new request fields reach
the wire, a plain-http callback never reaches a vendor that takes only HTTPS, a GIF never
reaches KIE through Auto, and the "waiting for room" note is readable."""

import re
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from flux2web.credentials.models import ProviderCredential
from flux2web.credentials.services import add_credential, set_create_limit
from flux2web.jobs import services
from flux2web.jobs.models import Job
from flux2web.jobs.routing import JobSpec
from flux2web.providers.types import GenerationRequest
from flux2web.studio.forms import GenerateForm
from tests.jobs.factories import make_jobs
from tests.providers.helpers import gateway_page

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def loopback_sandbox(settings, sandbox):
    settings.ALLOWED_PRIVATE_HOSTS = frozenset({sandbox.url.removeprefix("http://")})


def form(**fields):
    data = {"prompt": "a heron at dawn [sandbox:no_callback]", "model": "pro", "count": "1",
            "aspect_ratio": "1:1", "idempotency_key": "key-1"}  # fmt: skip
    return {**data, **fields}


def sent_body(sandbox, job: Job) -> dict:
    assert services.submit_job(job_id=job.pk) == "submitted"
    job.refresh_from_db()
    return sandbox.get_task(job.provider_task_id).body


def test_kies_nsfw_checker_goes_from_the_studio_to_the_wire(signed_in, providers, sandbox):
    signed_in.post("/generate", form(provider=providers["KIE.ai"].pk, nsfw_checker="on"))
    job = Job.objects.get()
    assert job.option("nsfw_checker")
    assert sent_body(sandbox, job)["input"]["nsfw_checker"] is True
    assert "NSFW checker</dt><dd>on" in signed_in.get(f"/jobs/{job.pk}/").content.decode()


def test_a_requests_data_walks_through_eleven_modules_from_the_form_to_the_wire(
    signed_in, providers, sandbox
):
    # Every module one of whose functions holds the request, its spec or the form, from
    # the studio's POST to the provider's client (docs/architecture.md counts them).
    walked = set()

    def profile(frame, event, arg):
        if event in ("call", "return") and frame.f_globals.get("__name__", "").startswith(
            "flux2web."
        ):
            held = [*frame.f_locals.values(), arg if event == "return" else None]
            if any(isinstance(v, GenerationRequest | JobSpec | GenerateForm) for v in held):
                walked.add(frame.f_globals["__name__"])

    sys.setprofile(profile)
    try:
        signed_in.post("/generate", form(provider=providers["KIE.ai"].pk, nsfw_checker="on"))
        services.submit_job(job_id=Job.objects.get().pk)
    finally:
        sys.setprofile(None)
    assert "flux2web.providers.dialects.kie.client" in walked
    assert len(walked) <= 11, sorted(walked)


def test_apixos_routing_goes_from_the_studio_to_the_wire(signed_in, providers, sandbox):
    options = signed_in.post("/generate/options", {"provider": providers["Apixo"].pk})
    assert '<option value="official">Official</option>' in options.content.decode()
    signed_in.post("/generate", form(provider=providers["Apixo"].pk, route="official"))
    job = Job.objects.get()
    assert sent_body(sandbox, job)["provider"] == "official"
    remix = signed_in.get(f"/?remix={job.pk}").content.decode()
    assert '<option value="official" selected>Official</option>' in remix


def test_fields_a_newly_chosen_provider_lacks_are_dropped_with_a_notice(signed_in, providers):
    # A form still showing KIE's and Apixo's options (no JavaScript), sent to APIMart.
    page = signed_in.post(
        "/generate",
        form(provider=providers["APIMart"].pk, nsfw_checker="on", route="value"),
        follow=True,
    ).content.decode()
    assert "APIMart has no NSFW checker; it was left off." in page
    assert "APIMart has no routing choice; value routing was dropped." in page
    job = Job.objects.get()
    assert not job.option("nsfw_checker") and job.option("route") == ""


def test_a_routing_apixo_does_not_know_is_named_beside_its_field(signed_in, providers):
    page = signed_in.post("/generate", form(provider=providers["Apixo"].pk, route="fastest"))
    assert "Routing &#x27;fastest&#x27; is not offered by Apixo" in page.content.decode()
    assert not Job.objects.exists()


@pytest.mark.parametrize("name", ["LiangXin", "Apixo"])
def test_a_public_plain_http_site_is_followed_by_polling_alone_there(
    settings, owner, providers, sandbox, name
):
    settings.PUBLIC_URL = "http://flux.example.com"
    (job,) = make_jobs(owner, prompt="a heron [sandbox:no_callback]", provider=providers[name])
    body = sent_body(sandbox, job)
    assert "callBackUrl" not in body and "callback_url" not in body
    assert body.get("request_type", "async") == "async"


def test_kie_is_still_given_a_plain_http_callback(settings, owner, providers, sandbox):
    settings.PUBLIC_URL = "http://flux.example.com"
    (job,) = make_jobs(owner, prompt="a heron [sandbox:no_callback]", provider=providers["KIE.ai"])
    assert sent_body(sandbox, job)["callBackUrl"].startswith("http://flux.example.com/")


def test_a_gif_reference_is_refused_while_kie_pauses_since_kie_may_take_the_job_after(
    settings, signed_in, providers, sandbox, image_host
):
    settings.ALLOWED_PRIVATE_HOSTS = frozenset(
        {sandbox.url.removeprefix("http://"), image_host.removeprefix("http://")}
    )
    ProviderCredential.objects.exclude(name__in=["KIE.ai", "APIMart"]).update(enabled=False)
    ProviderCredential.objects.filter(name="KIE.ai").update(
        cooldown_until=timezone.now() + timedelta(seconds=30)
    )
    page = signed_in.post("/generate", form(reference_urls=f"{image_host}/ref.gif"))
    assert "KIE.ai" in page.content.decode() and "GIF" in page.content.decode()
    assert not Job.objects.exists()


def test_waiting_for_room_names_a_readable_time(owner, providers, sandbox):
    set_create_limit(providers["KIE.ai"], count=1, seconds=10)
    jobs = [make_jobs(owner, prompt=f"owl {n}", provider=providers["KIE.ai"])[0] for n in range(2)]
    assert [services.submit_job(job_id=j.pk) for j in jobs] == ["submitted", "waiting for room"]
    message = Job.objects.get(pk=jobs[1].pk).events.order_by("pk").last().message
    assert re.search(r"all sent; sending at \d\d:\d\d:\d\d\.\d{3}$", message), message


def test_a_create_a_gateway_lost_is_held_not_sent_to_a_second_provider(owner, providers, sandbox):
    with gateway_page(502) as server:
        add_credential(
            name="Proxied KIE", dialect="kie", priority=1, api_key="proxied-key-123456",
            base_url=server.url,
        )  # fmt: skip
        (job,) = make_jobs(owner, prompt="an owl", aspect_ratio="1:1")
        outcome = services.submit_job(job_id=job.pk)
    job.refresh_from_db()
    others = sum(v for k, v in sandbox.snapshot().items() if k.startswith("tasks_created:"))
    assert (outcome, job.state, server.creates, others) == ("uncertain", "uncertain", 1, 0)
    assert "may have accepted" in job.error_message
