"""Reference images from the studio: no private address is handed to a provider, only the
job owner's own uploads are ever re-signed, and a refused request stores no upload."""

import io
import socket
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from flux2web.billing.models import Quota
from flux2web.jobs import job_requests, services
from flux2web.jobs.models import Job
from flux2web.studio import references
from flux2web.studio.models import ReferenceUpload
from tests.jobs.factories import make_jobs

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def png(name="ref.png"):
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def form_data(**overrides):
    data = {"prompt": "a red fox in the snow", "model": "pro", "provider": "", "count": "1",
            "aspect_ratio": "1:1", "idempotency_key": "key-1"}  # fmt: skip
    data.update(overrides)
    return data


def stored_files(media) -> list[Path]:
    return [p for p in Path(media).rglob("*") if p.is_file()]


@pytest.fixture
def private_name(monkeypatch):
    """intranet.example resolves to 10.1.2.3; rebind.example to a public address."""
    real = socket.getaddrinfo
    names = {"intranet.example": "10.1.2.3", "images.example": "93.184.216.34"}

    def resolver(host, port, *args, **kwargs):
        if host in names:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (names[host], port or 80))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)


# ---- 3. Private addresses. ---------------------------------------------------------------

PRIVATE = [
    "http://127.0.0.1/a.png", "http://localhost:8000/a.png", "http://[::1]/a.png",
    "http://10.0.0.7/a.png", "http://172.16.0.1/a.png", "http://192.168.1.20/a.png",
    "http://169.254.169.254/latest/meta-data/", "http://0.0.0.0/a.png",
    "http://[fd00::1]/a.png", "http://[fe80::1]/a.png", "http://[::ffff:127.0.0.1]/a.png",
    "http://2130706433/a.png", "http://0177.0.0.1/a.png", "http://intranet.example/a.png",
]  # fmt: skip


@pytest.mark.parametrize("url", PRIVATE)
def test_a_reference_on_a_private_address_is_refused_beside_its_field(
    signed_in, settings, private_name, url
):
    settings.ALLOW_PRIVATE_URLS, settings.ALLOWED_PRIVATE_HOSTS = False, frozenset()
    response = signed_in.post("/generate", form_data(reference_urls=f"{url}"))
    html = response.content.decode()
    assert response.status_code == 200
    block = html.split('name="reference_urls"')[1][:1500]
    assert 'class="field-error"' in block
    assert "Reference image 1" in block
    assert not Job.objects.exists()


@pytest.fixture
def fetched(monkeypatch):
    """Pasted references are fetched before queueing (tests/studio/test_reference_checks.py);
    here, where the address rule is the subject, the fetch applies the rule and answers
    with a PNG without leaving the machine."""
    from flux2web.lib import addresses
    from flux2web.providers.download import Downloaded

    def fake(url, *, policy, **_):
        policy.check(url)
        return Downloaded(b"png", "image/png", 64, 48, "0" * 64)

    monkeypatch.setattr(addresses, "download_image", fake)


def test_a_public_reference_is_accepted(signed_in, settings, private_name, fetched):
    settings.ALLOW_PRIVATE_URLS, settings.ALLOWED_PRIVATE_HOSTS = False, frozenset()
    response = signed_in.post("/generate", form_data(reference_urls="https://images.example/a.png"))
    assert response.status_code == 302
    assert Job.objects.get().reference_urls == ["https://images.example/a.png"]


def test_the_allow_list_of_result_downloads_also_opens_references(signed_in, settings, fetched):
    settings.ALLOW_PRIVATE_URLS, settings.ALLOWED_PRIVATE_HOSTS = False, {"10.0.0.7:8080"}
    signed_in.post("/generate", form_data(reference_urls="http://10.0.0.7:8080/a.png"))
    assert Job.objects.count() == 1
    signed_in.post(
        "/generate", form_data(reference_urls="http://10.0.0.7:8081/a.png", idempotency_key="2")
    )
    assert Job.objects.count() == 1
    settings.ALLOW_PRIVATE_URLS = True
    signed_in.post(
        "/generate", form_data(reference_urls="http://10.0.0.7:8081/a.png", idempotency_key="3")
    )
    assert Job.objects.count() == 2


def test_no_job_is_created_with_a_private_reference_whatever_the_caller(owner, providers, settings):
    settings.ALLOW_PRIVATE_URLS, settings.ALLOWED_PRIVATE_HOSTS = False, frozenset()
    with pytest.raises(services.JobRefused) as refused:
        make_jobs(owner, reference_urls=("http://169.254.169.254/x.png",))
    assert refused.value.problems[0].field == "reference_urls"
    assert not Job.objects.exists()


def test_our_own_upload_links_stay_usable_on_a_private_address(
    signed_in, owner, providers, settings
):
    """Locally the site itself is on 127.0.0.1: the links we sign are ours, not pasted."""
    settings.ALLOW_PRIVATE_URLS, settings.ALLOWED_PRIVATE_HOSTS = False, frozenset()
    settings.PUBLIC_URL = "http://127.0.0.1:8000"
    data = form_data(provider=providers["Apixo"].pk, aspect_ratio="auto", resolution="1K")
    assert signed_in.post("/generate", {**data, "reference_files": [png()]}).status_code == 302
    (url,) = Job.objects.get().reference_urls
    assert url.startswith("http://127.0.0.1:8000/refs/")
    # Remixing puts the link in the form again; it is still accepted, and re-signed.
    # (Seconds later: the same request at once is the same press of Generate.)
    Job.objects.update(created_at=timezone.now() - timedelta(seconds=5))
    remixed = signed_in.post("/generate", {**data, "reference_urls": url, "idempotency_key": "2"})
    assert remixed.status_code == 302
    assert Job.objects.count() == 2
    # Retrying too.
    job = Job.objects.order_by("pk").first()
    signed_in.post(f"/jobs/{job.pk}/retry", {"key": "k"})
    assert Job.objects.count() == 3
    assert (
        Job.objects.order_by("pk")
        .last()
        .reference_urls[0]
        .startswith("http://127.0.0.1:8000/refs/")
    )


def test_a_look_alike_of_our_link_on_another_host_is_not_trusted(signed_in, owner, settings):
    settings.ALLOW_PRIVATE_URLS, settings.ALLOWED_PRIVATE_HOSTS = False, frozenset()
    ref = references.store_upload(owner=owner, upload=png())
    token_path = references.public_url(ref, base="http://x").removeprefix("http://x")
    signed_in.post(
        "/generate",
        form_data(reference_urls=f"http://169.254.169.254{token_path}", idempotency_key="o"),
    )
    job = Job.objects.filter(owner=owner).first()
    # Either refused, or re-signed onto our own address: never sent to the metadata service.
    assert job is None or "169.254" not in job.reference_urls[0]


# ---- 4. Re-signing someone else's upload. -------------------------------------------------


def expired_link(ref, monkeypatch, base="http://testserver") -> str:
    with monkeypatch.context() as m:
        past = time.time() - references.URL_LIFETIME.total_seconds() - 3600
        m.setattr(signing.time, "time", lambda: past)
        return references.public_url(ref, base=base)


def job_with_reference(owner, link, providers) -> Job:
    (job,) = make_jobs(owner, prompt="with a reference", provider=providers["Apixo"],
                       aspect_ratio="3:2", resolution="1K")  # fmt: skip
    Job.objects.filter(pk=job.pk).update(state=Job.State.FAILED, reference_urls=[link])
    return Job.objects.get(pk=job.pk)


def test_retry_never_revives_an_expired_link_to_someone_elses_upload(
    client, owner, outsider, providers, media, monkeypatch
):
    theirs = references.store_upload(owner=owner, upload=png())
    link = expired_link(theirs, monkeypatch)
    assert client.get(link.removeprefix("http://testserver")).status_code == 404
    # The outsider's job carries the owner's (expired) link, as one made before could.
    job = job_with_reference(outsider, link, providers)
    client.force_login(outsider)
    client.post(f"/jobs/{job.pk}/retry", {"key": "k"})
    for again in Job.objects.exclude(pk=job.pk):
        for url in again.reference_urls:
            assert client.get(url.removeprefix("http://testserver")).status_code == 404


def test_retry_still_renews_the_owners_own_expired_upload(signed_in, owner, providers, monkeypatch):
    mine = references.store_upload(owner=owner, upload=png())
    link = expired_link(mine, monkeypatch)
    job = job_with_reference(owner, link, providers)
    signed_in.post(f"/jobs/{job.pk}/retry", {"key": "k"})
    (url,) = Job.objects.exclude(pk=job.pk).get().reference_urls
    assert url != link
    assert signed_in.get(url.removeprefix("http://testserver")).status_code == 200


def test_retry_renews_a_teammates_reference_made_from_an_image_the_person_may_see(
    client, owner, teammate, providers, media, monkeypatch
):
    """A remix carried it (the image it was made of is shown to the team): a retry days
    later keeps it, as it keeps one's own."""
    (shown,) = make_jobs(owner, prompt="a team-visible sky")
    image = shown.images.create(owner=owner, provider_url="x", status="mirrored", team_visible=True)
    theirs = references.store_upload(owner=owner, upload=png(), source_image=image)
    job = job_with_reference(teammate, expired_link(theirs, monkeypatch), providers)
    client.force_login(teammate)
    client.post(f"/jobs/{job.pk}/retry", {"key": "k"})
    (url,) = Job.objects.exclude(pk__in=[job.pk, shown.pk]).get().reference_urls
    assert client.get(url.removeprefix("http://testserver")).status_code == 200


def test_pasting_an_expired_link_to_someone_elses_upload_is_refused(
    client, owner, outsider, providers, media, monkeypatch
):
    theirs = references.store_upload(owner=owner, upload=png())
    client.force_login(outsider)
    data = form_data(provider=providers["Apixo"].pk, aspect_ratio="auto", resolution="1K",
                     reference_urls=expired_link(theirs, monkeypatch))  # fmt: skip
    html = client.post("/generate", data).content.decode()
    assert "expired" in html.split('name="reference_urls"')[1][:1500]
    assert not Job.objects.exists()


# ---- 8. A refused request stores no upload. -----------------------------------------------


def test_an_over_quota_submit_stores_no_upload(signed_in, owner, providers, media):
    Quota.objects.create(user=owner, monthly_images=0)
    data = form_data(provider=providers["Apixo"].pk, aspect_ratio="auto", resolution="1K")
    html = signed_in.post("/generate", {**data, "reference_files": [png()]}).content.decode()
    assert "Over your monthly limit" in html
    assert not Job.objects.exists()
    assert not ReferenceUpload.objects.exists()
    assert stored_files(media) == []


def test_a_double_submit_stores_one_set_of_uploads(signed_in, owner, providers, media):
    data = form_data(provider=providers["Apixo"].pk, aspect_ratio="auto", resolution="1K")
    for _ in range(2):
        signed_in.post("/generate", {**data, "reference_files": [png(), png("b.png")]}, headers=HX)
    assert Job.objects.count() == 1
    assert ReferenceUpload.objects.count() == 2
    assert len(stored_files(media)) == 2


def test_uploads_of_a_request_that_loses_a_race_are_removed(
    signed_in, owner, providers, media, monkeypatch
):
    """Two presses at once: both pass the early duplicate check, one wins at the database."""
    data = form_data(provider=providers["Apixo"].pk, aspect_ratio="auto", resolution="1K")
    signed_in.post("/generate", {**data, "reference_files": [png()]})
    real, looks = services.existing_jobs, []

    def existing_jobs(**kwargs):
        looks.append(kwargs)  # the first look finds nothing: the other press has not committed
        return [] if len(looks) == 1 else real(**kwargs)

    monkeypatch.setattr(job_requests, "existing_jobs", existing_jobs)
    signed_in.post("/generate", {**data, "reference_files": [png()]})
    assert Job.objects.count() == 1
    assert ReferenceUpload.objects.count() == 1
    assert len(stored_files(media)) == 1
