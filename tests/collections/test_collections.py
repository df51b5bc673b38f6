"""Collections: making them, adding from every place, order, cover, ZIP, and who sees what."""

import io
import zipfile

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from flux2web.collections import services
from flux2web.collections.models import Collection, CollectionItem
from tests.collections.factories import HX, made

pytestmark = pytest.mark.django_db
V = Collection.Visibility


def collection_of(user, title="Spring campaign", visibility=V.PRIVATE, images=()):
    c = services.collection_create(owner=user, title=title, visibility=visibility)
    if images:
        services.collection_add_images(collection=c, user=user, image_ids=[i.pk for i in images])
    return c


def order_of(c):
    return list(services.ordered_items(c).values_list("image_id", flat=True))


# ---- Making, editing, deleting. --------------------------------------------------------


def test_a_person_makes_a_collection_and_lands_on_its_page(as_owner, owner):
    response = as_owner.post(
        "/collections/new", {"title": "  Spring campaign  ", "visibility": "team_view"}
    )
    c = Collection.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/collections/{c.pk}/"
    assert (c.owner, c.title, c.visibility) == (owner, "Spring campaign", "team_view")
    page = as_owner.get(f"/collections/{c.pk}/").content.decode()
    assert "Spring campaign" in page and "Team can view" in page


def test_a_collection_without_a_title_is_refused_with_the_reason(as_owner):
    response = as_owner.post("/collections/new", {"title": "   ", "visibility": "private"})
    assert response.status_code == 400
    assert "Give the collection a title." in response.content.decode()
    bad = as_owner.post("/collections/new", {"title": "x", "visibility": "everyone"})
    assert bad.status_code == 400 and "Select a valid choice" in bad.content.decode()
    assert not Collection.objects.exists()


def test_the_list_shows_mine_and_the_teams_but_not_others_private_ones(
    as_owner, owner, teammate, outsider
):
    collection_of(owner, "Mine")
    collection_of(teammate, "Team lookbook", V.TEAM_VIEW)
    collection_of(outsider, "Oscar's secret")
    html = as_owner.get("/collections/").content.decode()
    assert "Mine" in html and "Team lookbook" in html and "by tomas" in html
    assert "Oscar's secret" not in html


def test_the_owner_edits_title_description_visibility_and_order(as_owner, owner):
    c = collection_of(owner)
    response = as_owner.post(
        f"/collections/{c.pk}/edit",
        {"edit-title": "Round 2", "edit-description": "For the client",
         "edit-visibility": "team_add", "edit-order": "newest"},
    )  # fmt: skip
    assert response.status_code == 302
    c.refresh_from_db()
    assert (c.title, c.description, c.visibility, c.order) == (
        "Round 2", "For the client", "team_add", "newest")  # fmt: skip


def test_a_bad_edit_is_explained_and_changes_nothing(as_owner, owner):
    c = collection_of(owner)
    response = as_owner.post(
        f"/collections/{c.pk}/edit",
        {"edit-title": "", "edit-visibility": "public", "edit-order": "manual"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Give the collection a title." in html or "This field is required." in html
    assert "Select a valid choice" in html
    c.refresh_from_db()
    assert c.title == "Spring campaign" and c.visibility == "private"


def test_deleting_a_collection_keeps_its_images(as_owner, owner):
    image = made(owner)
    c = collection_of(owner, images=[image])
    response = as_owner.post(f"/collections/{c.pk}/delete")
    assert response.status_code == 302 and response["Location"] == "/collections/"
    assert not Collection.objects.exists()
    image.refresh_from_db()  # still there
    assert as_owner.get("/gallery/").content.decode().count('data-image-id="') == 1


def test_actions_need_post(as_owner, owner):
    c = collection_of(owner)
    for action in ("edit", "delete", "remove", "move", "reorder", "cover", "zip"):
        assert as_owner.get(f"/collections/{c.pk}/{action}").status_code == 405, action
    assert as_owner.get("/collections/new").status_code == 405
    assert as_owner.post(f"/collections/{c.pk}/").status_code == 405


# ---- Who sees and changes what. --------------------------------------------------------


def test_a_private_collection_is_the_same_404_as_none_for_anyone_else(as_owner, as_outsider, owner):
    c = collection_of(owner, "Secret", images=[made(owner)])
    missing = as_outsider.get("/collections/999999/")
    hidden = as_outsider.get(f"/collections/{c.pk}/")
    assert hidden.status_code == missing.status_code == 404
    assert "Secret" not in hidden.content.decode()
    for action in ("edit", "delete", "remove", "move", "reorder", "cover", "zip"):
        assert as_outsider.post(f"/collections/{c.pk}/{action}").status_code == 404, action
    assert Collection.objects.filter(pk=c.pk, title="Secret").exists()


def test_a_teammate_views_a_team_collection_and_its_images_but_cannot_change_it(as_teammate, owner):
    image = made(owner, "private until collected")
    c = collection_of(owner, "Lookbook", V.TEAM_VIEW, images=[image])
    html = as_teammate.get(f"/collections/{c.pk}/").content.decode()
    assert "Lookbook" in html and "private until collected" in html
    assert "Remove" not in html and "/sharing" not in html
    # Adding it to a collection the team sees made the image team-visible (README: private
    # beats collection membership, so showing it there means showing it to the team).
    image.refresh_from_db()
    assert image.team_visible
    assert as_teammate.get(f"/media/{image.thumbnail.name}").status_code == 200
    assert as_teammate.get(f"/media/{image.original.name}").status_code == 200
    for action in ("edit", "delete", "move", "reorder", "cover"):
        assert as_teammate.post(f"/collections/{c.pk}/{action}").status_code == 404, action
    as_teammate.post(f"/collections/{c.pk}/remove", {"image": image.pk})
    assert CollectionItem.objects.count() == 1


def test_images_of_a_private_collection_stay_private(as_outsider, owner):
    image = made(owner)
    collection_of(owner, images=[image])
    assert as_outsider.get(f"/media/{image.thumbnail.name}").status_code == 404


def test_a_teammate_adds_their_own_images_to_a_team_can_add_collection_only(
    as_teammate, owner, teammate
):
    open_one = collection_of(owner, "Open", V.TEAM_ADD)
    view_only = collection_of(owner, "Look only", V.TEAM_VIEW)
    mine = made(teammate, "tomas made this")
    someone_elses = made(owner, "olivia's", team=True)
    response = as_teammate.post(
        "/collections/add", {"collection": open_one.pk, "image": [mine.pk, someone_elses.pk]}
    )
    assert response.status_code == 302
    assert order_of(open_one) == [mine.pk]  # never someone else's image
    refused = as_teammate.post("/collections/add", {"collection": view_only.pk, "image": mine.pk})
    assert refused.status_code == 400
    assert "not open to you" in refused.content.decode()
    assert not view_only.items.exists()
    # They can take back what they added, not what others added.
    theirs = made(owner, "owner's own")
    services.collection_add_images(collection=open_one, user=owner, image_ids=[theirs.pk])
    as_teammate.post(f"/collections/{open_one.pk}/remove", {"image": [mine.pk, theirs.pk]})
    assert order_of(open_one) == [theirs.pk]


# ---- Adding from the gallery, the lightbox, a job card, the job page. ------------------


def test_gallery_bulk_add_first_asks_where_then_adds(as_owner, owner):
    a, b = made(owner, "first"), made(owner, "second")
    gallery = as_owner.get("/gallery/").content.decode()
    assert 'formaction="/collections/add"' in gallery
    chooser = as_owner.post("/collections/add", {"image": [a.pk, b.pk], "next": "/gallery/"})
    html = chooser.content.decode()
    assert chooser.status_code == 200 and "Add 2 images" in html
    assert "field-error" not in html  # choosing is not an error
    done = as_owner.post(
        "/collections/add", {"image": [a.pk, b.pk], "collection": "", "new_title": "Picks"}
    )
    c = Collection.objects.get(title="Picks")
    assert done["Location"] == f"/collections/{c.pk}/"
    assert order_of(c) == [a.pk, b.pk]


def test_adding_twice_keeps_one_copy_and_says_so(as_owner, owner):
    image = made(owner)
    c = collection_of(owner, images=[image])
    as_owner.post("/collections/add", {"image": image.pk, "collection": c.pk})
    assert c.items.count() == 1
    page = as_owner.get(f"/collections/{c.pk}/").content.decode()
    assert "1 already there" in page


def test_an_image_can_be_in_several_collections(as_owner, owner):
    image = made(owner)
    one, two = collection_of(owner, "One"), collection_of(owner, "Two")
    for c in (one, two):
        as_owner.post("/collections/add", {"image": image.pk, "collection": c.pk})
    assert order_of(one) == order_of(two) == [image.pk]


def test_adding_needs_a_choice_and_ones_own_images(as_owner, owner, outsider):
    image = made(owner)
    theirs = made(outsider, "not mine", team=True)
    nothing = as_owner.post(
        "/collections/add", {"image": image.pk, "collection": "", "new_title": ""}
    )
    assert nothing.status_code == 400
    assert "Choose a collection, or give a new one a title." in nothing.content.decode()
    foreign = collection_of(outsider, "Oscar's")
    hidden = as_owner.post("/collections/add", {"image": image.pk, "collection": foreign.pk})
    assert hidden.status_code == 400 and not foreign.items.exists()
    none = as_owner.post("/collections/add", {"image": [theirs.pk, "x"], "new_title": "T"})
    assert none.status_code == 302 and not Collection.objects.filter(title="T").exists()
    assert as_owner.put("/collections/add").status_code == 405


def test_the_job_card_and_job_page_offer_add_to_collection(as_owner, owner):
    image = made(owner)
    card = as_owner.get("/").content.decode()
    assert f"/collections/add?job={image.job_id}" in card
    page = as_owner.get(f"/jobs/{image.job_id}/").content.decode()
    assert f"/collections/add?image={image.pk}" in page
    chooser = as_owner.get(f"/collections/add?job={image.job_id}")
    assert (
        chooser.status_code == 200
        and f'name="image" value="{image.pk}"' in chooser.content.decode()
    )


def test_the_lightbox_adds_with_htmx_and_answers_with_the_form_and_a_message(as_owner, owner):
    image = made(owner)
    c = collection_of(owner, "Picks")
    assert 'class="lb-add"' in as_owner.get("/gallery/").content.decode()
    response = as_owner.post(
        "/collections/add", {"image": image.pk, "collection": c.pk}, headers=HX
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'id="add-to"' in html and "<html" not in html
    assert "Added 1 image to “Picks”." in html and 'hx-swap-oob="true"' in html
    assert order_of(c) == [image.pk]


# ---- The page: grid, order, cover, ZIP. ------------------------------------------------


def test_the_grid_keeps_each_images_aspect_ratio_without_inline_styles(as_owner, owner):
    wide = made(owner, "wide", size=(1920, 1080))
    tall = made(owner, "tall", size=(768, 1344))
    c = collection_of(owner, images=[wide, tall])
    html = as_owner.get(f"/collections/{c.pk}/").content.decode()
    assert 'class="jitem ar-36"' in html and 'class="jitem ar-11"' in html
    assert 'width="1920" height="1080"' in html
    grid = html.split('id="collection-grid"')[1].split("</ul>")[0]
    assert "style=" not in grid and "onclick" not in grid
    assert "data-lightbox" in grid and 'id="lightbox"' in html
    assert f'href="/collections/{c.pk}/sharing"' in html


def test_moving_up_and_down_without_javascript_and_newest_first(as_owner, owner):
    a, b, c_ = made(owner, "a"), made(owner, "b"), made(owner, "c")
    c = collection_of(owner, images=[a, b, c_])
    as_owner.post(f"/collections/{c.pk}/move", {"up": c_.pk})
    assert order_of(c) == [a.pk, c_.pk, b.pk]
    as_owner.post(f"/collections/{c.pk}/move", {"up": a.pk})  # already first
    assert order_of(c) == [a.pk, c_.pk, b.pk]
    as_owner.post(f"/collections/{c.pk}/reorder", {"order": "newest"})
    c.refresh_from_db()
    assert order_of(c) == [c_.pk, b.pk, a.pk]
    as_owner.post(f"/collections/{c.pk}/reorder", {"order": "manual"})
    c.refresh_from_db()
    assert order_of(c) == [a.pk, c_.pk, b.pk]
    bad = as_owner.post(f"/collections/{c.pk}/move", {"sideways": a.pk, "up": "x"})
    assert bad.status_code == 302
    page = as_owner.get(f"/collections/{c.pk}/").content.decode()
    assert "Say which image to move, up or down." in page


def test_a_dragged_order_is_kept(as_owner, owner):
    a, b, c_ = made(owner, "a"), made(owner, "b"), made(owner, "c")
    c = collection_of(owner, images=[a, b, c_])
    response = as_owner.post(
        f"/collections/{c.pk}/reorder", {"image": [b.pk, c_.pk, a.pk, 999999]},
        headers={"X-Requested-With": "fetch"},
    )  # fmt: skip
    assert response.status_code == 204
    assert order_of(c) == [b.pk, c_.pk, a.pk]


def test_grid_actions_answer_htmx_with_the_grid_only(as_owner, owner):
    a, b = made(owner, "a"), made(owner, "b")
    c = collection_of(owner, images=[a, b])
    response = as_owner.post(
        f"/collections/{c.pk}/move", {"up": b.pk},
        headers={**HX, "HX-Target": "collection-grid"},
    )  # fmt: skip
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<div id="collection-grid"')
    assert "<html" not in html and order_of(c) == [b.pk, a.pk]


def test_the_cover_is_chosen_among_its_images_and_cleared_when_removed(as_owner, owner, outsider):
    a, b = made(owner, "a"), made(owner, "b")
    c = collection_of(owner, images=[a, b])
    as_owner.post(f"/collections/{c.pk}/cover", {"image": b.pk})
    c.refresh_from_db()
    assert c.cover_id == b.pk
    other = made(owner, "not in it")
    as_owner.post(f"/collections/{c.pk}/cover", {"image": other.pk})
    c.refresh_from_db()
    assert c.cover_id == b.pk
    assert "The cover must be one of the collection" in as_owner.get(
        f"/collections/{c.pk}/").content.decode()  # fmt: skip
    as_owner.post(f"/collections/{c.pk}/remove", {"image": b.pk})
    c.refresh_from_db()
    assert c.cover_id is None and order_of(c) == [a.pk]


def test_download_all_as_one_zip_in_the_collections_order(as_owner, as_teammate, owner):
    a, b = made(owner, "first one"), made(owner, "second one")
    c = collection_of(owner, "Spring campaign", V.TEAM_VIEW, images=[b, a])
    for client in (as_owner, as_teammate):
        assert "Download all (ZIP)" in client.get(f"/collections/{c.pk}/").content.decode()
        response = client.post(f"/collections/{c.pk}/zip")
        assert response.status_code == 200
        assert "spring-campaign-" in response["Content-Disposition"]
        names = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).namelist()
        assert names[0].startswith("001-") and "second-one" in names[0]
        assert "first-one" in names[1]
    empty = collection_of(owner, "Empty")
    assert as_owner.post(f"/collections/{empty.pk}/zip").status_code == 302


def test_the_collection_page_query_count_does_not_grow_with_the_images(as_owner, owner, teammate):
    c = collection_of(owner, visibility=V.TEAM_ADD)

    def count():
        cache.clear()  # pages of tiles are cached; count what rendering one costs
        with CaptureQueriesContext(connection) as queries:
            assert as_owner.get(f"/collections/{c.pk}/").status_code == 200
        return len(queries)

    services.collection_add_images(collection=c, user=owner, image_ids=[made(owner, "0").pk])
    few = count()
    for n in range(15):
        who = owner if n % 2 else teammate
        services.collection_add_images(
            collection=c, user=who, image_ids=[made(who, f"image {n}").pk]
        )
    assert count() == few


def test_an_image_deleted_from_the_gallery_leaves_the_collection_page_at_once(as_owner, owner):
    a, b = made(owner, "stays"), made(owner, "goes")
    c = collection_of(owner, images=[a, b])
    assert "goes" in as_owner.get(f"/collections/{c.pk}/").content.decode()
    as_owner.post("/gallery/delete", {"image": b.pk})
    html = as_owner.get(f"/collections/{c.pk}/").content.decode()
    assert "goes" not in html and "stays" in html and "1 image ·" in html


def test_a_big_collection_pages_in_as_the_person_scrolls(as_owner, owner, monkeypatch):
    from flux2web.collections import views

    monkeypatch.setattr(views, "PER_PAGE", 2)
    images = [made(owner, f"image {n}") for n in range(5)]
    c = collection_of(owner, images=images)
    html = as_owner.get(f"/collections/{c.pk}/").content.decode()
    assert html.count('class="jitem') == 2 and "5 images" in html
    assert 'href="?start=2"' in html
    more = as_owner.get(
        f"/collections/{c.pk}/?start=2", headers={**HX, "HX-Target": "collection-more"}
    ).content.decode()
    assert more.count('class="jitem') == 2 and "<html" not in more
    assert 'href="?start=4"' in more and "image 2" in more
    last = as_owner.get(f"/collections/{c.pk}/?start=4").content.decode()
    assert last.count('class="jitem') == 1 and "?start=6" not in last
    assert "Move image 5 later" not in last and "Move image 5 earlier" in last


def test_the_list_shows_each_cover_with_a_fixed_number_of_queries(as_owner, owner):
    def count():
        with CaptureQueriesContext(connection) as queries:
            html = as_owner.get("/collections/").content.decode()
        return len(queries), html

    first = made(owner, "first")
    collection_of(owner, "One", images=[first, made(owner, "second")])
    few, html = count()
    assert first.thumbnail.name in html and "2 images" in html
    for n in range(5):
        collection_of(owner, f"More {n}", images=[made(owner, f"m{n}")])
    assert count()[0] == few


def test_what_a_teammate_added_stays_visible_to_the_owner_when_the_collection_closes(
    as_owner, owner, teammate
):
    c = collection_of(owner, "Open", V.TEAM_ADD)
    theirs = made(teammate, "tomas's private contribution")
    services.collection_add_images(collection=c, user=teammate, image_ids=[theirs.pk])
    as_owner.post(
        f"/collections/{c.pk}/edit",
        {"edit-title": "Closed", "edit-visibility": "private", "edit-order": "manual"},
    )
    assert as_owner.get(f"/media/{theirs.thumbnail.name}").status_code == 200
    assert "private contribution" in as_owner.get(f"/collections/{c.pk}/").text
    # Until its maker makes it private again: then it is hidden, collection or not.
    services.image_set_team_visible(owner=teammate, image_ids=[theirs.pk], team_visible=False)
    assert as_owner.get(f"/media/{theirs.thumbnail.name}").status_code == 404
    assert "private contribution" not in as_owner.get(f"/collections/{c.pk}/").text
