"""Reference images are checked before any money is spent: KIE and Apixo take only JPEG,
PNG or WebP up to 10 MB each. Uploads are converted when the picture survives (GIF, HEIC
to PNG) or refused with the reason; pasted URLs are fetched once, through the guarded
downloader, before anything is queued."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from flux2web.jobs import services
from flux2web.jobs.models import Job
from flux2web.studio.models import ReferenceUpload
from tests.helpers import PASSWORD
from tests.jobs.factories import make_jobs

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, owner, providers, settings, image_host, media):
    settings.ALLOWED_PRIVATE_HOSTS = frozenset({image_host.removeprefix("http://")})
    settings.PUBLIC_URL = "http://testserver"
    client.login(username="olivia", password=PASSWORD)
    return client


def form_data(providers, **overrides):
    data = {"prompt": "a red fox in the snow", "model": "pro", "count": "1",
            "provider": providers["KIE.ai"].pk, "aspect_ratio": "auto", "resolution": "1K",
            "idempotency_key": "key-1"}  # fmt: skip
    data.update(overrides)
    return data


def upload(name, fmt, *, frames=1, size=(64, 48), content_type="image/gif", **save):
    out = io.BytesIO()
    pictures = [Image.new("RGB", size, (40 * n, 40, 200)).convert("P") for n in range(frames)]
    pictures[0].save(out, format=fmt, save_all=frames > 1, append_images=pictures[1:], **save)
    return SimpleUploadedFile(name, out.getvalue(), content_type=content_type)


def field_error(response) -> str:
    html = response.content.decode()
    return html.split('name="reference_urls"')[1][:2500]


class TestUploads:
    def test_a_gif_is_converted_to_png_before_anyone_fetches_it(self, signed_in, providers):
        response = signed_in.post(
            "/generate", {**form_data(providers), "reference_files": [upload("fox.gif", "GIF")]}
        )
        assert response.status_code == 302
        ref = ReferenceUpload.objects.get()
        assert ref.content_type == "image/png" and ref.extension == "png"
        with Image.open(ref.file) as stored:
            assert stored.format == "PNG" and stored.size == (64, 48)
        assert Job.objects.get().reference_urls[0].endswith("/reference.png")

    def test_an_animated_gif_is_refused_with_the_reason(self, signed_in, providers):
        response = signed_in.post(
            "/generate",
            {**form_data(providers), "reference_files": [upload("run.gif", "GIF", frames=3)]},
        )
        assert response.status_code == 200
        assert "run.gif is an animated GIF (3 frames)" in response.content.decode()
        assert not Job.objects.exists() and not ReferenceUpload.objects.exists()

    def test_a_heic_photo_pillow_cannot_open_is_refused_with_the_reason(self, signed_in, providers):
        head = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic"
        heic = SimpleUploadedFile("IMG_0001.HEIC", head + bytes(64), content_type="image/heic")
        response = signed_in.post("/generate", {**form_data(providers), "reference_files": [heic]})
        html = response.content.decode()
        assert "IMG_0001.HEIC is a HEIC image, which this server cannot read" in html
        assert "save it as JPEG or PNG" in html
        assert not Job.objects.exists()

    def test_an_image_over_10_mb_is_refused_before_it_costs_anything(
        self, signed_in, providers, sandbox
    ):
        out = io.BytesIO()
        Image.new("RGB", (64, 48)).save(out, format="PNG")
        big = SimpleUploadedFile("huge.png", out.getvalue() + bytes(11 * 1024 * 1024),
                                 content_type="image/png")  # fmt: skip
        response = signed_in.post("/generate", {**form_data(providers), "reference_files": [big]})
        assert "huge.png is 11.0 MB; KIE.ai and Apixo take reference images up to 10 MB" in (
            response.content.decode()
        )
        assert not Job.objects.exists()
        assert sandbox.snapshot().get("create_requests:kie", 0) == 0


class TestPastedUrls:
    def test_a_good_url_is_fetched_once_and_queued(self, signed_in, providers, image_host,
                                                   image_hits):  # fmt: skip
        url = f"{image_host}/landscape-1.png"
        response = signed_in.post("/generate", form_data(providers, reference_urls=url))
        assert response.status_code == 302
        assert Job.objects.get().reference_urls == [url]
        assert image_hits == ["/landscape-1.png"]  # by the form; not again by the service

    @pytest.mark.parametrize(("path", "reason"), [
        ("/fox.gif", "Reference image 1 is a GIF image; KIE.ai takes only JPEG, PNG, WebP. "
                     "Upload the file instead: it is converted."),
        ("/missing.png", "Reference image 1 could not be fetched (it answered HTTP 404)"),
        ("/page.html", "Reference image 1 could not be fetched (Not an image: text/html)"),
        ("/padded-fox.png", "Reference image 1 is larger than 10 MB, the most KIE.ai takes."),
    ])  # fmt: skip
    def test_a_url_providers_would_refuse_is_refused_with_the_reason(
        self, signed_in, providers, image_host, sandbox, path, reason
    ):
        response = signed_in.post(
            "/generate", form_data(providers, reference_urls=f"{image_host}{path}")
        )
        assert response.status_code == 200
        assert reason in field_error(response).replace("&#x27;", "'")
        assert not Job.objects.exists()
        assert sandbox.snapshot().get("create_requests:kie", 0) == 0

    def test_auto_checks_against_the_strictest_provider(self, signed_in, providers, image_host):
        response = signed_in.post(
            "/generate",
            form_data(
                providers, provider="", aspect_ratio="1:1", reference_urls=f"{image_host}/fox.gif"
            ),
        )
        assert "is a GIF image; KIE.ai, Apikley and Apixo take only" in field_error(response)

    def test_every_caller_gets_the_check(self, owner, providers, settings, image_host):
        settings.ALLOWED_PRIVATE_HOSTS = frozenset({image_host.removeprefix("http://")})
        with pytest.raises(services.JobRefused) as refused:
            make_jobs(owner, provider=providers["Apixo"], aspect_ratio="1:1",
                      reference_urls=(f"{image_host}/missing.png",))  # fmt: skip
        assert "could not be fetched" in refused.value.problems[0].message
        assert not Job.objects.exists()
