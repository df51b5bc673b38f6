"""The lightbox's "Use as reference": the image becomes the next job's reference, as the
person's own upload; an image they may not see is the same 404 as none."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from flux2web.jobs.models import Image as StoredImage
from flux2web.jobs.models import Job
from flux2web.studio import references
from flux2web.studio.models import ReferenceUpload
from tests.collections.factories import make_image
from tests.jobs.factories import finish, make_jobs

pytestmark = pytest.mark.django_db


def png():
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(out, format="PNG")
    return SimpleUploadedFile("ref.png", out.getvalue(), content_type="image/png")


def carried_tiles(html: str) -> str:
    return html.split('class="previews carried"')[1].split("</ul>")[0]


def test_an_own_image_becomes_the_next_jobs_reference_as_a_tile(signed_in, owner):
    image = make_image(owner)
    response = signed_in.post("/references/from-image", {"image": image.pk})
    assert response.status_code == 302 and response["Location"] == "/"
    ref = ReferenceUpload.objects.get()
    assert ref.owner == owner and (ref.width, ref.height) == (image.width, image.height)
    page = signed_in.get("/").content.decode()
    assert "reference for your next job" in page
    # A tile with its thumbnail, rendered by the server (no script needed), not an address
    # in the URL box.
    tile = carried_tiles(page)
    assert f'name="reference_ids" value="{ref.pk}" checked' in tile
    src = re.search(r'<img src="([^"]+)"', tile)[1]
    assert src.startswith("/refs/")
    assert signed_in.get(src)["Content-Type"] == "image/png"
    field = page.split('name="reference_urls"')[1].split("</textarea>")[0]
    assert "/refs/" not in field
    # Carried once: the next visit starts clean.
    assert 'name="reference_ids"' not in signed_in.get("/").content.decode()


def test_the_tile_goes_with_the_job_and_stays_for_the_next(signed_in, owner, providers):
    signed_in.post("/references/from-image", {"image": make_image(owner).pk})
    ref = ReferenceUpload.objects.get()
    data = {"prompt": "in the style of the reference", "model": "pro", "count": "1",
            "provider": providers["KIE.ai"].pk, "aspect_ratio": "auto", "resolution": "1K",
            "reference_ids": [ref.pk], "idempotency_key": "k1"}  # fmt: skip
    answer = signed_in.post("/generate", data, headers={"HX-Request": "true"})
    (url,) = Job.objects.get(prompt="in the style of the reference").reference_urls
    assert "/refs/" in url
    assert references.take_references([url], owner=owner, base="http://testserver").ours
    assert f'value="{ref.pk}" checked' in carried_tiles(answer.content.decode())
    # Unticked, it is left out.
    del data["reference_ids"]
    signed_in.post("/generate", {**data, "aspect_ratio": "1:1", "idempotency_key": "k2"})
    assert Job.objects.order_by("pk").last().reference_urls == []
    assert Job.objects.filter(prompt="in the style of the reference").count() == 2


def test_someone_elses_reference_is_no_tile_and_no_reference(client, owner, teammate, providers):
    theirs = references.store_upload(owner=owner, upload=png())
    client.force_login(teammate)
    data = {"prompt": "a fox", "model": "pro", "count": "1", "provider": providers["KIE.ai"].pk,
            "aspect_ratio": "auto", "resolution": "1K", "reference_ids": [theirs.pk, "x"],
            "idempotency_key": "k1"}  # fmt: skip
    html = client.post("/generate", data).content.decode()
    assert "gone or not shared with you" in html
    assert 'name="reference_ids"' not in html
    assert not Job.objects.exists()


def test_a_teammates_private_image_or_no_image_is_a_404_and_stores_nothing(
    client, owner, teammate, providers, media
):
    private = make_image(owner)
    client.force_login(teammate)
    for value in (private.pk, "nope", "999999", ""):
        assert client.post("/references/from-image", {"image": value}).status_code == 404
    assert not ReferenceUpload.objects.exists()
    shared = make_image(owner)
    shared.team_visible = True
    shared.save()
    assert client.post("/references/from-image", {"image": shared.pk}).status_code == 302
    assert ReferenceUpload.objects.get().owner == teammate


def test_a_file_that_is_not_an_image_is_said_not_a_500(signed_in, owner):
    job = finish(make_jobs(owner)[0])  # its stored "image" is a few bytes of text
    response = signed_in.post("/references/from-image", {"image": job.images.get().pk}, follow=True)
    assert response.status_code == 200
    assert "cannot be a reference" in response.content.decode()
    assert not ReferenceUpload.objects.exists()


@pytest.fixture
def copied(client, owner, teammate, media):
    """A teammate's copy of the owner's team-visible image, made with "Use as reference"."""
    image = make_image(owner, "a heron at dawn")
    image.team_visible = True
    image.save()
    client.force_login(teammate)
    assert client.post("/references/from-image", {"image": image.pk}).status_code == 302
    ref = ReferenceUpload.objects.get(source_image=image)
    signed = references.preview_path(ref)
    assert client.get(f"/media/{ref.file.name}").status_code == 200
    assert client.get(signed).status_code == 200
    return image, ref, signed


def test_a_copy_made_private_with_its_image_is_seen_by_nobody_else(client, owner, copied):
    # Private beats everything: the teammate's copy goes dark with the image, on our pages
    # and at the signed link a provider would fetch.
    image, ref, signed = copied
    StoredImage.objects.filter(pk=image.pk).update(team_visible=False)
    assert client.get(f"/media/{image.original.name}").status_code == 404
    assert client.get(f"/media/{ref.file.name}").status_code == 404
    assert client.get(signed).status_code == 404
    assert not ReferenceUpload.objects.visible_to(ref.owner).exists()
    client.force_login(owner)  # the image's owner may still see what was made of it
    assert client.get(f"/media/{ref.file.name}").status_code == 200


def test_a_copy_goes_with_its_deleted_image(client, copied):
    image, ref, signed = copied
    image.delete()
    assert not ReferenceUpload.objects.filter(pk=ref.pk).exists()
    assert client.get(f"/media/{ref.file.name}").status_code == 404
    assert client.get(signed).status_code == 404


def test_using_an_image_twice_carries_it_once(signed_in, owner, media):
    image = make_image(owner, "a heron at dawn")
    for _ in range(2):  # a double click, or two tabs
        assert signed_in.post("/references/from-image", {"image": image.pk}).status_code == 302
    assert ReferenceUpload.objects.filter(source_image=image).count() == 1
    assert carried_tiles(signed_in.get("/").content.decode()).count("<li") == 1
