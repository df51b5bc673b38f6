"""The lightbox's "Use as reference": the image becomes the next job's reference, as the
person's own upload; an image they may not see is the same 404 as none."""

import pytest

from flux2web.studio.models import ReferenceUpload
from tests.jobs.factories import finish, make_jobs
from tests.sharing.factories import make_image

pytestmark = pytest.mark.django_db


def test_an_own_image_becomes_the_next_jobs_reference(signed_in, owner):
    image = make_image(owner)
    response = signed_in.post("/references/from-image", {"image": image.pk})
    assert response.status_code == 302 and response["Location"] == "/"
    ref = ReferenceUpload.objects.get()
    assert ref.owner == owner and (ref.width, ref.height) == (image.width, image.height)
    page = signed_in.get("/").content.decode()
    field = page.split('name="reference_urls"')[1].split("</textarea>")[0]
    assert "/refs/" in field
    assert "reference for your next job" in page
    # Carried once: the next visit starts clean.
    assert (
        "/refs/"
        not in signed_in.get("/")
        .content.decode()
        .split('name="reference_urls"')[1]
        .split("</textarea>")[0]
    )


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
