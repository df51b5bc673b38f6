"""Client proofing from the owner's side: the proofing switches of a link's form, the review
summary on the Sharing panel and My share links, the link's review page (per reviewer, per
image, filters), moving the picks into a new collection, and the list of picked files."""

import csv
import io
from datetime import timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from flux2web.collections.models import Collection
from flux2web.links import services as links
from flux2web.links.models import ShareLink
from tests.collections.factories import make_collection, make_image
from tests.links.factories import share
from tests.review.owner_helpers import guest, picks, reviewed_link, say

pytestmark = pytest.mark.django_db


def form(**overrides):
    data = {
        "title": "Spring campaign — round 2", "label": "Client A", "readable_address": "on",
        "expires_on": (timezone.localdate() + timedelta(days=7)).isoformat(),
        "password": "", "downloads": "web", "allow_preview": "on",
    }  # fmt: skip
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def local_input(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin(django_user_model):
    return django_user_model.objects.create_user("ada", is_team_admin=True)


# ---- The link form. --------------------------------------------------------------------


def test_a_new_link_has_every_proofing_switch_off(as_owner, collection):
    page = as_owner.get(f"/collections/{collection.pk}/sharing").content.decode()
    assert "Client proofing" in page
    for name in ("allow_picks", "lock_on_confirm", "allow_comments", "show_reviewers"):
        assert f'name="{name}"' in page
        assert f'name="{name}" id="id_{name}" checked' not in page
    as_owner.post(f"/collections/{collection.pk}/sharing", form())
    link = ShareLink.objects.get()
    assert not (link.allow_picks or link.allow_comments or link.show_reviewers)
    assert not link.lock_on_confirm
    assert (link.picks_min, link.picks_max, link.picks_deadline) == (None, None, None)


def test_the_owner_turns_proofing_on_when_making_a_link(as_owner, collection):
    deadline = timezone.now() + timedelta(days=3)
    response = as_owner.post(
        f"/collections/{collection.pk}/sharing",
        form(allow_picks="on", picks_min="2", picks_max="4", lock_on_confirm="on",
             picks_deadline=local_input(deadline), allow_comments="on", show_reviewers="on"),
    )  # fmt: skip
    assert response.status_code == 302
    link = ShareLink.objects.get()
    assert link.allow_picks and link.lock_on_confirm and link.allow_comments
    assert link.show_reviewers
    assert (link.picks_min, link.picks_max) == (2, 4)
    assert abs(link.picks_deadline - deadline) < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"picks_min": "0"}, "The minimum is a whole number of picks from 1 to 500, or empty."),
        ({"picks_min": "-3"}, "The minimum is a whole number of picks from 1 to 500, or empty."),
        ({"picks_max": "501"}, "The maximum is a whole number of picks from 1 to 500, or empty."),
        ({"picks_max": "2.5"}, "The maximum is a whole number of picks, or empty."),
        ({"picks_min": "four"}, "The minimum is a whole number of picks, or empty."),
        ({"picks_min": "5", "picks_max": "3"}, "The minimum (5) is more than the maximum (3)."),
        ({"picks_deadline": "2020-01-01T10:00"}, "Pick a deadline in the future"),
        ({"picks_deadline": "tomorrow"}, "Give the deadline as a date and a time."),
        ({"picks_deadline": "9999-12-31T23:59"}, "Pick a deadline within ten years"),
    ],
)  # fmt: skip
def test_bad_proofing_settings_are_explained_and_nothing_is_made(
    as_owner, collection, fields, message
):
    response = as_owner.post(
        f"/collections/{collection.pk}/sharing", form(allow_picks="on", **fields)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ShareLink.objects.exists()


def test_a_minimum_above_the_images_the_link_shows_is_refused_on_making_and_editing(
    as_owner, owner, collection, images
):
    made = as_owner.post(f"/collections/{collection.pk}/sharing",
                         form(allow_picks="on", picks_min="4"))  # fmt: skip
    assert made.status_code == 400
    assert "This link shows 3 images; the minimum can be at most 3." in made.content.decode()
    assert not ShareLink.objects.exists()

    two = {"image": [images[0].pk, images[1].pk]}
    chosen = as_owner.post("/links/share", {**two, **form(allow_picks="on", picks_min="3")})
    assert chosen.status_code == 400
    assert "This link shows 2 images; the minimum can be at most 2." in chosen.content.decode()
    assert not ShareLink.objects.exists()

    link, _ = share(owner, image_ids=[images[0].pk])
    edited = as_owner.post(f"/links/{link.pk}/edit", form(allow_picks="on", picks_min="2"))
    assert edited.status_code == 400
    assert "This link shows 1 image; the minimum can be at most 1." in edited.content.decode()
    assert ShareLink.objects.get().picks_min is None
    fine = as_owner.post(f"/links/{link.pk}/edit", form(allow_picks="on", picks_min="1"))
    assert fine.status_code == 302 and ShareLink.objects.get().picks_min == 1


def test_the_form_says_in_which_time_zone_picking_closes(as_owner, owner, collection, settings):
    settings.TIME_ZONE = "America/New_York"
    page = as_owner.get(f"/collections/{collection.pk}/sharing").content.decode()
    assert "In the site's time zone, America/New_York." in unescape(page)
    deadline = timezone.now() + timedelta(days=2)
    there = timezone.localtime(deadline, ZoneInfo("America/New_York"))
    typed = there.strftime("%Y-%m-%dT%H:%M")
    as_owner.post(
        f"/collections/{collection.pk}/sharing", form(allow_picks="on", picks_deadline=typed)
    )
    saved = ShareLink.objects.get().picks_deadline
    assert abs(saved - deadline) < timedelta(minutes=1)


def test_editing_saves_proofing_and_asks_visitors_again(as_owner, owner, collection):
    link, _ = share(owner, collection=collection)
    response = as_owner.post(
        f"/links/{link.pk}/edit", form(allow_comments="on", allow_picks="on", picks_max="3")
    )
    assert response.status_code == 302
    updated = ShareLink.objects.get(pk=link.pk)
    assert updated.allow_comments and updated.allow_picks and updated.picks_max == 3
    assert updated.version == link.version + 1
    # The form shows what is saved.
    page = as_owner.get(f"/links/{link.pk}/edit").content.decode()
    assert 'name="allow_comments" id="id_allow_comments" checked' in page
    assert 'value="3"' in page


def test_a_passed_deadline_may_be_kept_while_editing_other_settings(as_owner, owner, collection):
    link, _ = share(owner, collection=collection, allow_picks=True)
    passed = (timezone.now() - timedelta(days=1)).replace(second=0, microsecond=0)
    ShareLink.objects.filter(pk=link.pk).update(picks_deadline=passed)
    response = as_owner.post(
        f"/links/{link.pk}/edit",
        form(title="Renamed", allow_picks="on", picks_deadline=local_input(passed)),
    )
    assert response.status_code == 302
    link.refresh_from_db()
    assert link.title == "Renamed" and link.picks_deadline == passed


def test_extending_an_expired_link_keeps_its_proofing(owner, collection):
    link, _ = share(owner, collection=collection, allow_picks=True, picks_min=2,
                    allow_comments=True)  # fmt: skip
    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    link.refresh_from_db()
    links.link_extend(link=link, expires_at=timezone.now() + timedelta(days=3))
    link.refresh_from_db()
    assert link.allow_picks and link.allow_comments and link.picks_min == 2


# ---- Summaries on the Sharing panel and My share links. ----------------------------------


def test_the_sharing_panel_sums_up_each_links_review(as_owner, owner, collection, images):
    link, _ana, _ben = reviewed_link(owner, collection, images)
    quiet, _ = share(owner, collection=collection, label="Client B")
    page = as_owner.get(f"/collections/{collection.pk}/sharing").content.decode()
    row = page.split(f'data-review="{link.pk}"')[1].split("</div>")[0]
    assert "2 reviewers · 3 picks of 2 images · 2 comments · 1 confirmed · last seen" in row
    assert f'href="/links/{link.pk}/review"' in row
    other = page.split(f'data-review="{quiet.pk}"')[1].split("</div>")[0]
    assert "No reviewers yet" in other


def test_my_share_links_sum_up_each_links_review(as_owner, owner, collection, images):
    link, _ana, _ben = reviewed_link(owner, collection, images)
    page = as_owner.get("/links/").content.decode()
    assert f'data-review="{link.pk}"' in page
    assert "2 reviewers · 3 picks of 2 images" in page


def test_an_admin_on_a_teammates_panel_sees_no_review(owner, admin, images):
    team = make_collection(owner, images, visibility=Collection.Visibility.TEAM_VIEW)
    link, _ana, _ben = reviewed_link(owner, team, images)
    page = signed_in(admin).get(f"/collections/{team.pk}/sharing").content.decode()
    assert "Client A" in page
    assert "data-review=" not in page and f"/links/{link.pk}/review" not in page


# ---- The review page. ------------------------------------------------------------------


def test_the_owner_reads_who_picked_and_said_what(as_owner, owner, collection, images):
    link, ana, ben = reviewed_link(owner, collection, images)
    response = as_owner.get(f"/links/{link.pk}/review")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ana · guest" in page and "Ben · guest" in page
    reviewers = page.split('class="table review-people"')[1].split("</table>")[0]
    ana_row = reviewers.split(f"?reviewer={ana.pk}")[1].split("</tr>")[0]
    assert 'data-label="Picks">2<' in ana_row and 'data-label="Comments">1<' in ana_row
    assert timezone.localtime(ana.confirmed_at).strftime("%Y-%m-%d %H:%M") in ana_row
    ben_row = reviewers.split(f"?reviewer={ben.pk}")[1].split("</tr>")[0]
    assert "not yet" in ben_row and "2\xa0hours ago" in ben_row
    second = page.split(f'data-image-id="{images[1].pk}"')[1].split("</li>")[0]
    assert "2 picks" in second and "Ana · guest, Ben · guest" in second
    assert "the second, but warmer" in second
    # Plain text: no markup, no clickable address.
    assert "&lt;b&gt;bold&lt;/b&gt;" in second and "<b>bold" not in page
    assert 'href="https://evil.example' not in page
    assert images[1].thumbnail.name in second
    third = page.split(f'data-image-id="{images[2].pk}"')[1].split("</li>")[0]
    assert "0 picks" in third
    assert "All good; send the rest by Friday." in page.split("On the whole set")[1]


def test_show_picked_only(as_owner, owner, collection, images):
    link, _ana, _ben = reviewed_link(owner, collection, images)
    page = as_owner.get(f"/links/{link.pk}/review?picked=1").content.decode()
    shown = [image.pk for image in images if f'data-image-id="{image.pk}"' in page]
    assert shown == [images[0].pk, images[1].pk]
    assert 'name="picked" value="1" checked' in page


def test_one_reviewers_picks_and_comments(as_owner, owner, collection, images):
    link, ana, ben = reviewed_link(owner, collection, images)
    page = as_owner.get(f"/links/{link.pk}/review?reviewer={ben.pk}").content.decode()
    shown = [image.pk for image in images if f'data-image-id="{image.pk}"' in page]
    assert shown == [images[1].pk]
    assert "the second, but warmer" not in page  # Ana's
    assert "All good" in page  # Ben's, on the whole set
    page = as_owner.get(f"/links/{link.pk}/review?reviewer={ana.pk}&picked=1").content.decode()
    assert [image.pk for image in images if f'data-image-id="{image.pk}"' in page] == [
        images[0].pk,
        images[1].pk,
    ]


@pytest.mark.parametrize("value", ["abc", "-1", "99999999999999999999", " ", "1\x00"])
def test_a_reviewer_filter_that_names_nobody_says_so(as_owner, owner, collection, images, value):
    link, _ana, _ben = reviewed_link(owner, collection, images)
    response = as_owner.get(f"/links/{link.pk}/review", {"reviewer": value})
    assert response.status_code == 400
    page = response.content.decode()
    assert "No such reviewer on this link; showing everyone." in page
    assert all(f'data-image-id="{image.pk}"' in page for image in images)


def test_everyone_is_the_filters_empty_choice(as_owner, owner, collection, images):
    link, _ana, _ben = reviewed_link(owner, collection, images)
    response = as_owner.get(f"/links/{link.pk}/review?picked=1&reviewer=")
    assert response.status_code == 200
    page = response.content.decode()
    assert "No such reviewer" not in page
    assert [i.pk for i in images if f'data-image-id="{i.pk}"' in page] == [
        images[0].pk,
        images[1].pk,
    ]


def test_another_links_reviewer_is_not_a_filter_here(as_owner, owner, collection, images):
    link, _ana, _ben = reviewed_link(owner, collection, images)
    other, _ = share(owner, collection=collection, label="Client B")
    stranger = guest(other, "Cleo")
    say(stranger, "from the other link", images[0])
    response = as_owner.get(f"/links/{link.pk}/review?reviewer={stranger.pk}")
    assert response.status_code == 400
    assert "Cleo" not in response.content.decode()
    assert "from the other link" not in response.content.decode()


@pytest.mark.parametrize("who", ["teammate", "outsider", "admin"])
def test_nobody_else_reads_a_links_review(request, owner, collection, images, who):
    link, _ana, _ben = reviewed_link(owner, collection, images)
    client = signed_in(request.getfixturevalue(who))
    for url in (f"/links/{link.pk}/review", f"/links/{link.pk}/picks.txt",
                f"/links/{link.pk}/picks.csv"):  # fmt: skip
        assert client.get(url).status_code == 404
    assert client.post(f"/links/{link.pk}/review/collect").status_code == 404
    assert Collection.objects.count() == 1


def test_signed_out_visitors_are_sent_to_sign_in(client, owner, collection, images):
    link, _ana, _ben = reviewed_link(owner, collection, images)
    response = client.get(f"/links/{link.pk}/review")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_revoked_link_keeps_its_review_readable(as_owner, owner, collection, images):
    link, _ana, _ben = reviewed_link(owner, collection, images)
    links.link_revoke(link=link)
    page = as_owner.get(f"/links/{link.pk}/review").content.decode()
    assert "no longer opens (revoked)" in page
    assert "Ana · guest" in page and "the second, but warmer" in page
    assert as_owner.get(f"/links/{link.pk}/picks.txt").status_code == 200


def test_a_new_address_keeps_the_review(as_owner, owner, collection, images):
    link, _ana, _ben = reviewed_link(owner, collection, images)
    before = as_owner.get(f"/links/{link.pk}/review").content.decode()
    as_owner.post(f"/links/{link.pk}/rotate")
    link.refresh_from_db()
    assert link.rotated_at is not None
    after = as_owner.get(f"/links/{link.pk}/review").content.decode()
    for text in ("Ana · guest", "Ben · guest", "2 picks", "the second, but warmer", "All good"):
        assert text in before and text in after
    assert "2 reviewers · 3 picks" in as_owner.get("/links/").content.decode()


def test_a_selection_links_review(as_owner, owner, images):
    link, _ = share(owner, image_ids=[images[2].pk, images[0].pk])
    picks(guest(link, "Dee"), [images[0]])
    page = as_owner.get(f"/links/{link.pk}/review").content.decode()
    assert page.index(f'data-image-id="{images[2].pk}"') < page.index(
        f'data-image-id="{images[0].pk}"'
    )
    assert "Dee · guest" in page
    assert as_owner.get(f"/links/{link.pk}/picks.txt").content.decode() == (
        f"{link.slug}-{images[0].pk}.png\n"
    )


def test_a_picked_image_the_link_no_longer_shows_is_still_listed(
    as_owner, owner, collection, images
):
    link, _ana, _ben = reviewed_link(owner, collection, images)
    collection.items.filter(image=images[0]).delete()
    page = as_owner.get(f"/links/{link.pk}/review").content.decode()
    row = page.split(f'data-image-id="{images[0].pk}"')[1].split("</li>")[0]
    assert "1 pick" in row and "no longer in the link" in row


# ---- Picks into a new collection. ------------------------------------------------------


def test_the_picks_go_into_a_new_collection(as_owner, owner, collection, images):
    link, _ana, _ben = reviewed_link(owner, collection, images)
    response = as_owner.post(f"/links/{link.pk}/review/collect", follow=True)
    made = Collection.objects.exclude(pk=collection.pk).get()
    assert response.redirect_chain[-1][0] == f"/collections/{made.pk}/"
    assert made.owner == owner and made.title == "Spring campaign — round 2 — picks"
    assert list(made.items.order_by("position").values_list("image_id", flat=True)) == [
        images[0].pk,
        images[1].pk,
    ]
    assert "with 2 picked images" in response.content.decode()


def test_a_double_submit_makes_one_collection_of_the_picks(as_owner, owner, collection, images):
    link, ana, _ben = reviewed_link(owner, collection, images)
    as_owner.post(f"/links/{link.pk}/review/collect")
    again = as_owner.post(f"/links/{link.pk}/review/collect", follow=True)
    made = Collection.objects.exclude(pk=collection.pk).get()
    assert again.redirect_chain[-1][0] == f"/collections/{made.pk}/"
    assert "You already made “Spring campaign — round 2 — picks” with these picks" in (
        again.content.decode()
    )
    # Other picks since: a new collection of them.
    picks(ana, images[2:3])
    as_owner.post(f"/links/{link.pk}/review/collect")
    assert Collection.objects.exclude(pk=collection.pk).count() == 2


def test_no_picks_no_collection(as_owner, owner, collection, images):
    link, _ = share(owner, collection=collection)
    say(guest(link, "Eve"), "nice", images[0])
    response = as_owner.post(f"/links/{link.pk}/review/collect", follow=True)
    assert response.redirect_chain[-1][0] == f"/links/{link.pk}/review"
    assert "Nothing to add: no guest has picked an image of yours yet." in (
        response.content.decode()
    )
    assert Collection.objects.count() == 1


def test_the_review_page_is_read_only(as_owner, owner, collection, images):
    link, _ana, _ben = reviewed_link(owner, collection, images)
    assert as_owner.post(f"/links/{link.pk}/review").status_code == 405
    assert as_owner.get(f"/links/{link.pk}/review/collect").status_code == 405
    assert as_owner.post(f"/links/{link.pk}/picks.txt").status_code == 405


# ---- The list of picked files. ---------------------------------------------------------


def test_the_list_of_picked_files_is_what_the_client_downloads(as_owner, owner, collection,
                                                                images):  # fmt: skip
    link, _ana, _ben = reviewed_link(owner, collection, images)
    response = as_owner.get(f"/links/{link.pk}/picks.txt")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{link.slug}-picks.txt"'
    assert response["Cache-Control"] == "no-store"
    names = [f"{link.slug}-{image.pk}.jpg" for image in images[:2]]  # web-size downloads
    assert response.content.decode() == "".join(name + "\n" for name in names)
    # The same list to copy on the review page.
    page = as_owner.get(f"/links/{link.pk}/review").content.decode()
    assert "\n".join(names) in page.split('id="picks-names"')[1]


def test_originals_keep_their_kind_in_the_list(as_owner, owner, collection, images):
    link, _ = share(owner, collection=collection, downloads="original")
    picks(guest(link, "Ana"), images[:1])
    text = as_owner.get(f"/links/{link.pk}/picks.txt").content.decode()
    assert text == f"{link.slug}-{images[0].pk}.png\n"


def test_the_csv_of_picks_cannot_run_a_formula(as_owner, owner, collection, images):
    link, _ = share(owner, collection=collection)
    sly = guest(link, '=HYPERLINK("https://evil.example","x")')
    picks(sly, images[:1])
    picks(guest(link, "@sum"), images[:1])
    say(sly, "-2+3", images[0])
    response = as_owner.get(f"/links/{link.pk}/picks.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{link.slug}-picks.csv"'
    assert response["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["file name", "stored file", "image id", "picks", "picked by", "comments"]
    assert len(rows) == 2
    name, stored, image_id, count, who, comments = rows[1]
    assert name == f"{link.slug}-{images[0].pk}.png"  # no downloads: the stored kind
    assert stored == images[0].original.name.rsplit("/", 1)[-1]
    assert (image_id, count, comments) == (str(images[0].pk), "2", "1")
    assert who == """'=HYPERLINK("https://evil.example","x") (guest); @sum (guest)"""
    for cell in rows[1]:
        assert cell[:1] not in "=+-@" or cell == ""


def test_the_csv_keeps_a_stored_file_name_that_starts_with_a_dash_exact(
    as_owner, owner, collection, images
):
    folder = images[0].original.name.rsplit("/", 1)[0]
    images[0].original.name = f"{folder}/-Xy_4kQ.png"
    images[0].save(update_fields=["original"])
    link, _ = share(owner, collection=collection)
    picks(guest(link, "-Ana"), images[:1])
    response = as_owner.get(f"/links/{link.pk}/picks.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1][1] == "-Xy_4kQ.png"  # our own random name, to find the file by
    assert rows[1][4] == "'-Ana (guest)"  # a person's text is still quoted


def test_a_link_to_nothing_picked_lists_nothing(as_owner, owner, collection):
    link, _ = share(owner, collection=collection)
    assert as_owner.get(f"/links/{link.pk}/picks.txt").content == b""
    rows = list(
        csv.reader(io.StringIO(as_owner.get(f"/links/{link.pk}/picks.csv").content.decode()))
    )
    assert len(rows) == 1
    page = as_owner.get(f"/links/{link.pk}/review").content.decode()
    assert "No guest has given a name on this link yet." in page


def test_a_teammates_images_in_the_collection_are_left_out_of_the_new_one(
    as_owner, owner, teammate, media
):
    mine = make_image(owner)
    theirs = make_image(teammate)
    collection = make_collection(owner, [mine])
    link, _ = share(owner, image_ids=[mine.pk])
    # A pick of an image the link never showed (by a forged request) is not the owner's.
    picks(guest(link, "Ana"), [mine, theirs])
    as_owner.post(f"/links/{link.pk}/review/collect")
    made = Collection.objects.exclude(pk=collection.pk).get()
    assert list(made.items.values_list("image_id", flat=True)) == [mine.pk]


def test_a_long_review_comes_a_page_at_a_time_keeping_its_filter(
    as_owner, owner, collection, images, monkeypatch
):
    monkeypatch.setattr("flux2web.links.views.REVIEW_PAGE", 2)
    link, ana, _ben = reviewed_link(owner, collection, images)
    page = as_owner.get(f"/links/{link.pk}/review").content.decode()
    assert "Images 1–2 of 3." in page
    assert [i.pk for i in images if f'data-image-id="{i.pk}"' in page] == [
        images[0].pk,
        images[1].pk,
    ]
    assert 'href="?start=2">Later images' in page and "Earlier images" not in page
    page = as_owner.get(f"/links/{link.pk}/review?start=2").content.decode()
    assert [i.pk for i in images if f'data-image-id="{i.pk}"' in page] == [images[2].pk]
    assert 'href="?start=0">← Earlier images' in page
    page = as_owner.get(f"/links/{link.pk}/review?picked=1&reviewer={ana.pk}").content.decode()
    assert "Later images" not in page  # Ana picked two: one page
    page = as_owner.get(f"/links/{link.pk}/review?start=99999999999999999999").content.decode()
    assert "Images 1–2 of 3." in page  # not a number we take: the first page
    monkeypatch.setattr("flux2web.links.views.REVIEW_PAGE", 1)
    page = as_owner.get(f"/links/{link.pk}/review?picked=1&reviewer={ana.pk}").content.decode()
    assert f'href="?picked=1&amp;reviewer={ana.pk}&amp;start=1">Later images' in page
