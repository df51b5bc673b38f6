"""The gallery keeps its page's shell rendered (flux2web/lib/shells.py) so the first view
after a change costs its tiles only. What the person sees must never be the kept copy's:
new images, collections, messages, colours, sign-in and CSRF tokens are always current."""

import re

import pytest
from django.test import Client

from flux2web.collections import services as sharing
from flux2web.credentials.services import add_credential
from tests.studio.helpers import made, tiles

pytestmark = pytest.mark.django_db


def lightbox_choices(html):
    return re.findall(r'<option value="\d+">([^<]*)</option>', html.split('id="lightbox"')[1])


def test_a_new_image_shows_at_once_though_the_page_around_it_was_kept(signed_in, owner):
    made(owner, "a first fox")
    assert tiles(signed_in.get("/gallery/").content.decode()) == 1
    made(owner, "a second fox")
    html = signed_in.get("/gallery/").content.decode()
    assert tiles(html) == 2
    assert "No images yet" not in html


def test_the_empty_gallery_stops_saying_so_once_it_has_an_image(signed_in, owner):
    assert "No images yet" in signed_in.get("/gallery/").content.decode()
    made(owner, "a fox at last")
    assert "No images yet" not in signed_in.get("/gallery/").content.decode()


def test_a_collection_made_elsewhere_is_offered_in_the_lightbox_at_once(signed_in, owner):
    made(owner, "a heron")
    html = signed_in.get("/gallery/").content.decode()
    assert lightbox_choices(html) == [] and "Add to a new collection" in html
    sharing.collection_create(owner=owner, title="Birds <of> spring")
    html = signed_in.get("/gallery/").content.decode()
    assert lightbox_choices(html) == ["Birds &lt;of&gt; spring"]


def test_a_message_after_an_action_is_shown_on_the_kept_page(signed_in, owner):
    image = made(owner, "an owl").images.get()
    signed_in.get("/gallery/")  # the shell is kept now
    signed_in.post("/gallery/delete", {"image": [image.pk]})
    html = signed_in.get("/gallery/").content.decode()
    assert "Deleted 1 image" in html
    assert "Deleted 1 image" not in signed_in.get("/gallery/").content.decode()


def test_the_chosen_colours_apply_to_the_kept_page(signed_in, owner):
    made(owner, "a night sky")
    assert "theme-dark" not in signed_in.get("/gallery/").content.decode()
    signed_in.cookies["theme"] = "dark"
    assert 'class="theme-dark"' in signed_in.get("/gallery/").content.decode()


def test_each_person_gets_their_own_page_and_a_csrf_token_that_works(
    owner, teammate, providers, media
):
    made(owner, "olivia's lake")
    made(teammate, "tomas's forest")
    pages = {}
    for user in (owner, teammate):
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        client.get("/gallery/")  # kept
        html = client.get("/gallery/").content.decode()
        pages[user.username] = html
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        assert "shell-" not in html  # no marker left unfilled
        assert all(t == token for t in re.findall(r'"X-CSRFToken": "([^"]+)"', html))
        response = client.post(
            "/settings/theme", {"theme": "dark", "next": "/gallery/", "csrfmiddlewaretoken": token}
        )
        assert response.status_code == 302  # accepted: the kept page's token is this visit's
    assert "olivia&#x27;s lake" in pages["olivia"] and "tomas" not in pages["olivia"]
    assert "tomas&#x27;s forest" in pages["tomas"] and "olivia" not in pages["tomas"]


def test_a_teammates_collection_open_for_adding_is_offered_at_once_and_gone_when_closed(
    signed_in, owner, teammate
):
    made(owner, "a heron")
    mine = sharing.collection_create(owner=owner, title="Mine")
    theirs = sharing.collection_create(owner=teammate, title="Team picks", visibility="team_add")
    sharing.collection_create(owner=teammate, title="Their own")
    assert lightbox_choices(signed_in.get("/gallery/").content.decode()) == ["Mine", "Team picks"]
    sharing.collection_update(collection=theirs, title="Team picks", description="",
                              visibility="team_view", order="manual")  # fmt: skip
    sharing.collection_update(collection=mine, title="Mine, renamed", description="",
                              visibility="private", order="manual")  # fmt: skip
    assert lightbox_choices(signed_in.get("/gallery/").content.decode()) == ["Mine, renamed"]
    sharing.collection_delete(collection=mine)
    assert lightbox_choices(signed_in.get("/gallery/").content.decode()) == []


def test_a_new_provider_is_offered_in_the_kept_filter_form_at_once(signed_in, owner):
    made(owner, "a heron")
    assert ">Brand new</option>" not in signed_in.get("/gallery/").content.decode()
    add_credential(name="Brand new", dialect="kie", base_url="https://api.kie.ai", api_key="k")
    assert ">Brand new</option>" in signed_in.get("/gallery/").content.decode()
