"""Compare: two to four images the person may see, side by side; anything else a clear
400 page that names the problem, and a private image of someone else like a missing one."""

import pytest
from django.urls import reverse

from flux2web.jobs.models import Image
from tests.studio.helpers import made

pytestmark = pytest.mark.django_db


def image_of(owner, prompt, *, team=False):
    image = made(owner, prompt).images.get()
    if team:
        Image.objects.filter(pk=image.pk).update(team_visible=True)
    return image


def compare(client, *images):
    return client.get(reverse("gallery:compare"), {"image": [str(i.pk) for i in images]})


def test_two_of_ones_own_images_are_shown_side_by_side_with_their_captions(signed_in, owner):
    fox, owl = image_of(owner, "a red fox"), image_of(owner, "a snowy owl")
    response = compare(signed_in, fox, owl)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="compare-pane"') == 2
    assert html.index("a red fox") < html.index("a snowy owl")  # in the order chosen
    assert f"/media/{fox.original.name}" in html and f"/media/{owl.original.name}" in html
    assert f"{fox.width} × {fox.height}" in html
    assert 'type="range"' in html  # two images: the before/after slider
    assert "js/compare.js" in html


def test_four_images_compare_and_a_teammates_shown_image_is_one_of_them(signed_in, owner, teammate):
    mine = [image_of(owner, f"mine {n}") for n in range(3)]
    theirs = image_of(teammate, "the teammate's harbour", team=True)
    html = compare(signed_in, *mine, theirs).content.decode()
    assert html.count('class="compare-pane"') == 4
    assert "the teammate&#x27;s harbour" in html and str(teammate) in html
    assert 'type="range"' not in html  # the slider is for exactly two


@pytest.mark.parametrize("count", [0, 1, 5])
def test_fewer_than_two_or_more_than_four_are_refused_with_a_message(signed_in, owner, count):
    images = [image_of(owner, f"take {n}") for n in range(count)]
    response = compare(signed_in, *images)
    assert response.status_code == 400
    assert "Choose 2 to 4 images to compare" in response.content.decode()


def test_a_private_image_of_someone_else_is_refused_like_a_missing_one(signed_in, owner, teammate):
    mine = image_of(owner, "mine")
    private = image_of(teammate, "the teammate's private sketch")
    refused = compare(signed_in, mine, private)
    missing = signed_in.get(reverse("gallery:compare"), {"image": [str(mine.pk), "999999"]})
    assert refused.status_code == missing.status_code == 400
    text = refused.content.decode()
    assert "private sketch" not in text and private.original.name not in text
    message = "One of the chosen images was not found"
    assert message in text and message in missing.content.decode()


def test_the_same_image_twice_is_one_image(signed_in, owner):
    fox = image_of(owner, "a red fox")
    response = compare(signed_in, fox, fox)
    assert response.status_code == 400


def test_bad_ids_get_the_message_not_an_error(signed_in, owner):
    fox = image_of(owner, "a red fox")
    for bad in ["x", "-1", "9" * 40, "1\x00"]:
        response = signed_in.get(reverse("gallery:compare"), {"image": [str(fox.pk), bad]})
        assert response.status_code == 400, bad


def test_the_selection_bars_post_their_choice_and_land_on_the_comparison(signed_in, owner):
    fox, owl = image_of(owner, "a red fox"), image_of(owner, "a snowy owl")
    response = signed_in.post(
        reverse("gallery:compare_chosen"), {"image": [str(fox.pk), str(owl.pk)], "next": "/x"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/compare?image={fox.pk}&image={owl.pk}"
    assert "csrf" not in response["Location"]
    gallery = signed_in.get("/gallery/").content.decode()
    assert f'formaction="{reverse("gallery:compare_chosen")}"' in gallery


def test_the_team_gallery_and_a_collection_offer_compare(signed_in, owner, teammate):
    from flux2web.collections.services import collection_add_images, collection_create

    fox = image_of(owner, "a red fox", team=True)
    image_of(teammate, "the teammate's harbour", team=True)
    team = signed_in.get(reverse("sharing:team_gallery")).content.decode()
    assert f'action="{reverse("gallery:compare")}"' in team
    assert team.count('class="pick"') == 2
    collection = collection_create(owner=owner, title="Foxes")
    owl = image_of(owner, "a snowy owl")
    collection_add_images(collection=collection, user=owner, image_ids=[fox.pk, owl.pk])
    page = signed_in.get(reverse("sharing:collection", args=[collection.pk])).content.decode()
    assert f'action="{reverse("gallery:compare")}"' in page
    assert f'name="image" value="{fox.pk}" form="compare-form"' in page


def test_signed_out_visitors_are_sent_to_sign_in(client, owner):
    response = client.get(reverse("gallery:compare"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
