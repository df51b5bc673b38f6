"""The team gallery: who sees which images, remixing a teammate's image, choosing who sees
one's new images, the team's default, and the studio's "into this collection"."""

import io
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image as PILImage

from flux2web.accounts.models import TeamPolicy
from flux2web.billing.models import LedgerEntry
from flux2web.collections import services
from flux2web.collections.models import Collection, PendingAdd
from flux2web.jobs import mirroring
from flux2web.jobs.models import Image, Job
from flux2web.studio import references
from tests.collections.factories import HX, made
from tests.jobs.factories import make_jobs

pytestmark = pytest.mark.django_db


def generate(client, providers, **extra):
    data = {
        "prompt": "a fox in the snow", "model": "pro", "count": "1",
        "provider": providers["LiangXin"].pk, "aspect_ratio": "1:1",
        "idempotency_key": extra.pop("key", "k1"), **extra,
    }  # fmt: skip
    return client.post("/generate", data)


# ---- Who sees what. --------------------------------------------------------------------


def test_the_team_view_shows_teammates_visible_images_with_their_facts(
    as_teammate, owner, providers
):
    image = made(owner, "a team-visible lighthouse", team=True)
    Job.objects.filter(pk=image.job_id).update(provider=providers["Apixo"], price="0.0600")
    made(owner, "a private diary page")
    html = as_teammate.get("/gallery/team/").content.decode()
    assert "a team-visible lighthouse" in html and "a private diary page" not in html
    assert "olivia" in html and "Apixo" in html and "$0.06" in html and "FLUX.2 [pro]" in html
    assert f"/?prompt_of={image.pk}" in html and f"/?image={image.pk}" in html
    assert as_teammate.get(f"/media/{image.thumbnail.name}").status_code == 200
    assert as_teammate.get(f"/media/{image.original.name}").status_code == 200


def test_private_images_stay_the_same_404_for_everyone_else(as_outsider, owner):
    private = made(owner, "private")
    for name in (private.thumbnail.name, private.original.name):
        assert as_outsider.get(f"/media/{name}").status_code == 404
    assert as_outsider.get("/media/images/1/nothing.png").status_code == 404
    assert as_outsider.get(f"/?image={private.pk}").status_code == 404
    assert as_outsider.get(f"/?prompt_of={private.pk}").status_code == 404
    assert as_outsider.get("/?image=not-a-number").status_code == 404
    assert "private" not in as_outsider.get("/gallery/team/").content.decode().split("<main")[1]


def test_the_team_view_filters_by_person_and_pages_with_htmx(as_owner, owner, teammate, outsider):
    made(teammate, "by tomas", team=True)
    made(outsider, "by oscar", team=True)
    html = as_owner.get(f"/gallery/team/?person={teammate.pk}").content.decode()
    assert "by tomas" in html and "by oscar" not in html
    partial = as_owner.get(
        f"/gallery/team/?person={outsider.pk}", headers={**HX, "HX-Target": "team-results"}
    )
    body = partial.content.decode()
    assert body.lstrip().startswith('<div id="team-results">') and "by oscar" in body
    assert "HX-Request" in partial["Vary"]
    bad = as_owner.get("/gallery/team/?person=nobody").content.decode()
    assert "Select a valid choice" in bad and "by tomas" in bad  # ignored, and said so
    assert as_owner.post("/gallery/team/").status_code == 405


def test_the_team_view_query_count_does_not_grow_with_the_images(as_owner, teammate):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert as_owner.get("/gallery/team/").status_code == 200
        return len(queries)

    made(teammate, "one", team=True)
    few = count()
    for n in range(12):
        made(teammate, f"more {n}", team=True)
    assert count() == few


# ---- Choosing who sees an image. -------------------------------------------------------


def test_an_image_is_made_team_visible_and_private_again_from_its_job_page(as_owner, owner):
    image = made(owner)
    page = as_owner.get(f"/jobs/{image.job_id}/").content.decode()
    assert "Show to the team" in page
    response = as_owner.post("/images/visibility", {"image": image.pk, "team": "1"})
    assert response.status_code == 302
    image.refresh_from_db()
    assert image.team_visible
    partial = as_owner.post("/images/visibility", {"image": image.pk, "team": "0"}, headers=HX)
    body = partial.content.decode()
    assert partial.status_code == 200 and 'class="visibility-toggle"' in body
    assert "Show to the team" in body and "now private" in body
    image.refresh_from_db()
    assert not image.team_visible


def test_only_the_owner_changes_who_sees_an_image(as_outsider, owner):
    image = made(owner)
    response = as_outsider.post("/images/visibility", {"image": image.pk, "team": "1"})
    assert response.status_code == 404
    image.refresh_from_db()
    assert not image.team_visible


def test_a_visibility_change_needs_a_clear_request(as_owner, owner):
    image = made(owner)
    for data in ({"image": image.pk}, {"image": image.pk, "team": "yes"}, {"team": "1"}):
        response = as_owner.post("/images/visibility", data)
        assert response.status_code == 302
    image.refresh_from_db()
    assert not image.team_visible
    assert as_owner.get("/images/visibility").status_code == 405


def test_new_images_follow_the_persons_choice_else_the_team_default(as_owner, owner):
    assert make_jobs(owner, prompt="default")[0].team_visible is False
    TeamPolicy.objects.filter(pk=1).update(new_images_team_visible=True)
    owner.refresh_from_db()
    assert make_jobs(owner, prompt="team default now")[0].team_visible is True
    response = as_owner.post("/settings/images", {"new_images_visibility": "private"})
    assert response.status_code == 302
    owner.refresh_from_db()
    assert make_jobs(owner, prompt="my own choice")[0].team_visible is False
    bad = as_owner.post("/settings/images", {"new_images_visibility": "public"})
    assert bad.status_code == 400 and "Select a valid choice" in bad.content.decode()
    assert as_owner.get("/settings/images").status_code == 200


def test_the_studio_form_can_choose_the_visibility_of_this_generation(as_owner, providers):
    html = as_owner.get("/").content.decode()
    assert 'name="visibility"' in html and 'name="collection"' in html
    generate(as_owner, providers, visibility="team")
    assert Job.objects.get().team_visible is True
    bad = generate(as_owner, providers, visibility="world", key="k2")
    assert "Select a valid choice" in bad.content.decode() and Job.objects.count() == 1


def test_only_admins_set_the_team_policy(as_owner, owner, client):
    assert as_owner.get("/team/policy").status_code == 403
    owner.is_team_admin = True
    owner.save()
    assert as_owner.get("/team/policy").status_code == 200
    response = as_owner.post(
        "/team/policy",
        {"new_images_team_visible": "on", "public_links_allowed": "on", "link_max_days": "30"},
    )
    assert response.status_code == 302
    policy = TeamPolicy.current()
    assert policy.new_images_team_visible and policy.link_max_days == 30
    bad = as_owner.post("/team/policy", {"link_max_days": "0"})
    assert bad.status_code == 400 and "At least one day" in bad.content.decode()
    assert TeamPolicy.current().link_max_days == 30


# ---- Remixing. -------------------------------------------------------------------------


def test_use_prompt_fills_only_the_prompt(as_teammate, owner):
    image = made(owner, "the teammate's exact words", team=True)
    html = unescape(as_teammate.get(f"/?prompt_of={image.pk}").content.decode())
    assert "the teammate's exact words" in html
    assert "Remixing" not in html


def test_a_teammate_remixes_a_visible_image_on_their_own_quota_and_the_family_shows(
    as_teammate, as_owner, owner, teammate, providers
):
    parent = made(owner, "a red kite over hills", team=True)
    page = as_teammate.get(f"/?image={parent.pk}").content.decode()
    assert "Remixing olivia's image" in page and "charged to your own quota" in page
    assert f'name="remix_of" value="{parent.pk}"' in page
    assert 'id="estimate"' in page  # the price is shown before anything is spent
    generate(as_teammate, providers, prompt="a red kite over the sea", remix_of=parent.pk)
    child = Job.objects.get(owner=teammate)
    assert child.remix_of_id == parent.pk and child.price > 0
    reserved = LedgerEntry.objects.get(job=child, kind=LedgerEntry.Kind.RESERVE)
    assert reserved.user == teammate  # the remixer pays, not the image's maker
    job_page = as_teammate.get(f"/jobs/{child.pk}/").content.decode()
    assert "Remix family" in job_page and "an image by olivia" in job_page
    # The parent's page lists the child only while the child is visible to its owner.
    parents_page = as_owner.get(f"/jobs/{parent.job_id}/").content.decode()
    assert "a red kite over the sea" not in parents_page
    Image.objects.create(job=child, owner=teammate, provider_url="x", team_visible=True)
    parents_page = as_owner.get(f"/jobs/{parent.job_id}/").content.decode()
    assert "Remixed 1 time" in parents_page and "By tomas" in parents_page


def test_a_remix_of_an_image_that_is_not_shared_is_refused(as_teammate, owner, providers):
    private = made(owner, "private")
    response = generate(as_teammate, providers, remix_of=private.pk)
    assert "no longer shared with you" in response.content.decode()
    assert not Job.objects.exclude(pk=private.job_id).exists()


def reference_from(image, *, owner):
    """A reference `owner` made of `image` ("Use as reference"), and one uploaded from disk."""
    out = io.BytesIO()
    PILImage.new("RGB", (64, 48), (200, 40, 40)).save(out, format="PNG")
    upload = SimpleUploadedFile("ref.png", out.getvalue(), content_type="image/png")
    ref = references.store_upload(owner=owner, upload=upload, source_image=image)
    return ref


def with_references(image, *refs):
    urls = [references.public_url(ref, base="http://testserver") for ref in refs]
    Job.objects.filter(pk=image.job_id).update(reference_urls=urls)


def test_a_teammates_remix_carries_the_references_they_may_see_and_names_the_rest(
    as_teammate, owner, teammate, providers
):
    sky = made(owner, "a team-visible sky", team=True)
    seen = reference_from(sky, owner=owner)
    unseen = reference_from(None, owner=owner)  # uploaded from olivia's disk: hers alone
    parent = made(owner, "a kite with two references", team=True)
    with_references(parent, seen, unseen)
    page = as_teammate.get(f"/?image={parent.pk}").content.decode()
    tiles = page.split('class="previews carried"')[1].split("</ul>")[0]
    assert f'name="reference_ids" value="{seen.pk}" checked' in tiles
    assert f'name="reference_ids" value="{unseen.pk}"' not in page
    assert "1 reference of the original was not carried over: you may not see it." in page
    generate(as_teammate, providers, remix_of=parent.pk, reference_ids=[seen.pk])
    (url,) = Job.objects.get(owner=teammate).reference_urls
    assert as_teammate.get(url.removeprefix("http://testserver")).status_code == 200
    # What the page did not offer cannot be sent by hand either.
    response = generate(as_teammate, providers, reference_ids=[unseen.pk], key="k2")
    assert "gone or not shared with you" in response.content.decode()
    # Once the image it was made from is private again, the reference is not carried.
    Image.objects.filter(pk=sky.pk).update(team_visible=False)
    page = as_teammate.get(f"/?image={parent.pk}").content.decode()
    assert "2 references of the original were not carried over" in page


def test_ones_own_remix_keeps_every_reference_as_a_tile(as_owner, owner, providers):
    mine = reference_from(None, owner=owner)
    parent = made(owner, "my own with a reference")
    with_references(parent, mine)
    for address in (f"/?remix={parent.job_id}", f"/?image={parent.pk}"):
        page = as_owner.get(address).content.decode()
        assert f'name="reference_ids" value="{mine.pk}" checked' in page
        assert "not carried over" not in page


# ---- The studio's "into this collection". ----------------------------------------------


def test_new_images_go_into_the_chosen_collection_once_stored(as_owner, owner, providers):
    c = services.collection_create(owner=owner, title="Straight in")
    generate(as_owner, providers, collection=c.pk)
    job = Job.objects.get()
    assert PendingAdd.objects.filter(job=job, collection=c).exists()
    image = Image.objects.create(
        job=job, owner=owner, provider_url="x", status=Image.Status.MIRRORED, width=8, height=8
    )
    Job.objects.filter(pk=job.pk).update(state=Job.State.MIRRORING)
    assert mirroring.finish(job.pk) == "succeeded"
    assert list(c.items.values_list("image_id", flat=True)) == [image.pk]
    assert not PendingAdd.objects.exists()


def test_the_studio_refuses_a_collection_not_open_to_the_person(as_owner, outsider, providers):
    theirs = services.collection_create(owner=outsider, title="Oscar's")
    response = generate(as_owner, providers, collection=theirs.pk)
    assert "not open to you" in response.content.decode()
    assert not Job.objects.exists() and not PendingAdd.objects.exists()
    assert Collection.objects.count() == 1


def test_remixing_ones_own_job_records_its_first_image(as_owner, owner, providers):
    parent = made(owner, "my own first try")
    page = as_owner.get(f"/?remix={parent.job_id}").content.decode()
    assert f'name="remix_of" value="{parent.pk}"' in page and "Remixing your image" in page
    generate(as_owner, providers, prompt="my second try", remix_of=parent.pk)
    assert Job.objects.get(prompt="my second try").remix_of_id == parent.pk
    html = as_owner.get(f"/jobs/{parent.job_id}/").content.decode()
    assert "Remixed 1 time" in html and "my second try" in html


def test_the_gallery_shows_a_selection_to_the_team_at_once(as_owner, owner):
    a, b = made(owner, "a"), made(owner, "b")
    made(owner, "kept private")
    assert 'name="team" value="1"' in as_owner.get("/gallery/").content.decode()
    response = as_owner.post(
        "/images/visibility", {"image": [a.pk, b.pk], "team": "1", "next": "/gallery/"}
    )
    assert response.status_code == 302 and response["Location"] == "/gallery/"
    assert sorted(Image.objects.filter(team_visible=True).values_list("pk", flat=True)) == [
        a.pk, b.pk]  # fmt: skip
    html = as_owner.get("/gallery/").content.decode()
    assert "2 images are now visible to the team." in html and html.count(">Team</span>") == 2
