"""What the fixes of the issue-10 review add beyond its findings (test_review_findings.py):
what people are told, and the parts the findings did not reach."""

import io
import logging
import zipfile

import pytest
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.test import Client

from flux2web.accounts.models import TeamPolicy
from flux2web.collections.models import Collection
from flux2web.jobs.models import Image
from flux2web.links.models import ShareLink
from tests.collections.factories import make_collection, make_image
from tests.links.factories import share

pytestmark = pytest.mark.django_db
V = Collection.Visibility


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_no_answer_under_s_writes_the_token_to_the_log(client, owner, collection, caplog):
    link, path = share(owner, collection=collection)
    token = path.rstrip("/")[-43:]
    with caplog.at_level(logging.DEBUG):
        assert client.get(path + "unlock").status_code == 405
        assert client.get(path + "i/999999/web").status_code == 404
        assert client.get(path + "nothing/here").status_code == 404
    assert token not in caplog.text and link.slug not in caplog.text
    assert "/s/<token>/unlock" in caplog.text


def test_gunicorns_access_log_line_has_no_token(capsys):
    from gunicorn.config import Config

    from flux2web.lib.gunicorn_logging import RedactingLogger

    class Response:
        status, sent, headers = "404 Not Found", 0, []

    class Request:
        headers = [("REFERER", "https://x.example/s/spring-AAAA/")]

    path = "/s/spring-campaign-" + "A" * 43 + "/i/1/web"
    environ = {"PATH_INFO": path, "QUERY_STRING": "", "REQUEST_METHOD": "GET",
               "SERVER_PROTOCOL": "HTTP/1.1", "RAW_URI": path,
               "REMOTE_ADDR": "1.2.3.4",
               "HTTP_REFERER": "https://x.example/s/spring-AAAA/"}  # fmt: skip
    config = Config()
    config.set("accesslog", "-")
    config.set("access_log_format", "%(r)s %(U)s %(f)s")
    RedactingLogger(config).access(
        Response(), Request(), environ, __import__("datetime").timedelta(0)
    )
    line = capsys.readouterr().out
    assert "A" * 43 not in line and "spring" not in line
    assert "/s/<token>/i/1/web" in line and "https://x.example/s/<token>/" in line


@pytest.mark.parametrize(
    "agent",
    [
        "Bluesky Cardyb/1.1",
        "Mozilla/5.0 (compatible; Pleroma 2.6; https://pleroma.example)",
        "Misskey/2024.5.0 (https://misskey.io)",
        "Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 (KHTML, like Gecko) Applebot/0.1",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Tumblr/14.0.835.186",
        "W3C_Validator/1.3",
    ],
)
def test_more_link_previewers_are_not_counted(owner, collection, agent):
    link, path = share(owner, collection=collection)
    assert Client(HTTP_USER_AGENT=agent).get(path).status_code == 200
    link.refresh_from_db()
    assert link.views == 0


def test_with_previews_off_people_still_see_the_title_on_the_page(owner, collection):
    _, path = share(owner, collection=collection, allow_preview=False, title="Acme merger")
    html = Client(HTTP_USER_AGENT="Mozilla/5.0 (iPhone)").get(path).content.decode()
    assert "<title>Shared images</title>" in html and "<h1>Acme merger</h1>" in html


def test_adding_ones_image_to_a_team_collection_says_it_is_now_shown_to_the_team(
    as_owner, owner, media
):
    image = make_image(owner)
    team = make_collection(owner, [], title="Lookbook", visibility=V.TEAM_VIEW)
    response = as_owner.post(
        "/collections/add", {"collection": team.pk, "image": image.pk}, follow=True
    )
    assert "Also shown to the team, since “Lookbook” is." in response.content.decode()
    assert Image.objects.get(pk=image.pk).team_visible


def test_adding_to_a_private_collection_keeps_the_image_private(as_owner, owner, media):
    image = make_image(owner)
    mine = make_collection(owner, [], title="Mine")
    response = as_owner.post(
        "/collections/add", {"collection": mine.pk, "image": image.pk}, follow=True
    )
    assert "Also shown to the team" not in response.content.decode()
    assert not Image.objects.get(pk=image.pk).team_visible


def test_a_teammate_sees_a_team_collection_without_the_owners_private_images(
    as_teammate, owner, media
):
    shown, hidden = make_image(owner, "shown to the team"), make_image(owner, "kept private")
    Image.objects.filter(pk=shown.pk).update(team_visible=True)
    c = make_collection(owner, [shown, hidden], title="Lookbook", visibility=V.TEAM_VIEW)
    html = as_teammate.get(f"/collections/{c.pk}/").content.decode()
    assert shown.thumbnail.name in html and hidden.thumbnail.name not in html
    assert "kept private" not in html
    listing = as_teammate.get("/collections/").content.decode()
    assert "1 image · Team can view" in listing
    names = zipfile.ZipFile(io.BytesIO(b"".join(
        as_teammate.post(f"/collections/{c.pk}/zip").streaming_content))).namelist()  # fmt: skip
    assert len(names) == 1 and "shown-to-the-team" in names[0]


def test_taking_back_needs_an_image_one_added_and_tells_nothing_else(
    as_teammate, owner, teammate, media
):
    c = make_collection(owner, [make_image(owner, "owner's secret")], visibility=V.PRIVATE)
    item = c.items.get()
    response = as_teammate.post(f"/collections/{c.pk}/remove", {"image": item.image_id})
    assert response.status_code == 404 and "secret" not in response.content.decode()
    assert c.items.count() == 1


def test_the_sharing_panel_says_teammates_images_stay_out_of_links(
    as_owner, owner, teammate, media
):
    c = make_collection(owner, [make_image(owner)], visibility=V.TEAM_ADD)
    theirs = make_image(teammate)
    Image.objects.filter(pk=theirs.pk).update(team_visible=True)
    c.items.create(image=theirs, added_by=teammate, position=5)
    html = as_owner.get(f"/collections/{c.pk}/sharing").content.decode()
    assert "1 image by teammates is not in links" in html


def test_the_owner_sees_why_a_password_less_link_stopped(as_owner, client, owner, collection):
    _, path = share(owner, collection=collection, label="Client A")
    TeamPolicy.objects.update_or_create(pk=1, defaults={"link_password_required": True})
    assert client.get(path).status_code == 404
    html = as_owner.get(f"/collections/{collection.pk}/sharing").content.decode()
    assert "the team now requires a password" in html and "Set a password" in html


def test_a_collection_zip_names_the_missing_files_in_a_readme(as_owner, owner, collection, images):
    default_storage.delete(images[1].original.name)
    response = as_owner.post(f"/collections/{collection.pk}/zip")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = archive.namelist()
    assert len(names) == 3 and names[-1] == "README.txt"
    assert names[0].startswith("001-") and names[1].startswith("003-")
    assert "002-" in archive.read("README.txt").decode()


def test_the_owner_keeps_caching_their_own_media_for_a_year(as_owner, owner, media):
    image = make_image(owner)
    response = as_owner.get(f"/media/{image.original.name}")
    assert "immutable" in response["Cache-Control"]


def test_a_teammates_cached_copy_is_revalidated_and_refused_once_private(as_teammate, owner, media):
    image = make_image(owner)
    Image.objects.filter(pk=image.pk).update(team_visible=True)
    first = as_teammate.get(f"/media/{image.original.name}")
    assert first["Cache-Control"] == "private, no-cache"
    etag = first["ETag"]
    again = as_teammate.get(f"/media/{image.original.name}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    Image.objects.filter(pk=image.pk).update(team_visible=False)
    gone = as_teammate.get(f"/media/{image.original.name}", headers={"If-None-Match": etag})
    assert gone.status_code == 404


def test_a_link_of_downloads_zip_has_only_the_owners_images(client, owner, teammate, media):
    c = make_collection(owner, [make_image(owner)], visibility=V.TEAM_ADD)
    theirs = make_image(teammate, "tomas's picture")
    Image.objects.filter(pk=theirs.pk).update(team_visible=True)
    c.items.create(image=theirs, added_by=teammate, position=5)
    _, path = share(owner, collection=c, downloads=ShareLink.Downloads.WEB)
    page = client.get(path).content.decode()
    assert f"/i/{theirs.pk}/" not in page and "1 image" in page
    names = zipfile.ZipFile(io.BytesIO(b"".join(client.get(path + "all.zip").streaming_content)))
    assert len(names.namelist()) == 1


def test_the_collections_page_offers_to_take_back_images_from_a_collection_made_private(
    as_teammate, owner, teammate, media
):
    c = make_collection(owner, [make_image(owner, "owner's secret")], title="Was open",
                        visibility=V.TEAM_ADD)  # fmt: skip
    theirs = make_image(teammate)
    c.items.create(image=theirs, added_by=teammate, position=5)
    assert "now private" not in as_teammate.get("/collections/").content.decode()
    Collection.objects.filter(pk=c.pk).update(visibility=V.PRIVATE, title="Renamed")
    html = as_teammate.get("/collections/").content.decode()
    assert "Your images in collections now private" in html and theirs.thumbnail.name in html
    assert "Renamed" not in html and "secret" not in html
    response = as_teammate.post(f"/collections/{c.pk}/remove", {"image": theirs.pk}, follow=True)
    assert "Took back 1 image." in response.content.decode()
    assert list(c.items.values_list("image__job__prompt", flat=True)) == ["owner's secret"]


def test_a_post_under_s_is_the_same_405_and_logs_no_token(owner, collection, images, caplog):
    _, path = share(owner, collection=collection)
    token = path.rstrip("/")[-43:]
    browser = Client(enforce_csrf_checks=True)
    with caplog.at_level(logging.DEBUG):
        for where in (path, f"{path}i/{images[0].pk}/web", f"{path}all.zip"):
            response = browser.post(where)
            assert response.status_code == 405 and response["Referrer-Policy"] == "no-referrer"
    assert token not in caplog.text


def test_opening_a_collection_to_the_team_shows_its_owners_images_and_says_so(
    as_owner, as_teammate, owner, media
):
    image = make_image(owner, "kept for the team")
    c = make_collection(owner, [image], title="Lookbook")
    assert "kept for the team" not in as_teammate.get(f"/collections/{c.pk}/").content.decode()
    response = as_owner.post(
        f"/collections/{c.pk}/edit",
        {"edit-title": "Lookbook", "edit-visibility": V.TEAM_VIEW, "edit-order": "manual"},
        follow=True,
    )
    assert "1 of your images in it is now also shown to the team" in response.content.decode()
    assert image.thumbnail.name in as_teammate.get(f"/collections/{c.pk}/").content.decode()


def test_making_an_image_private_says_teammates_no_longer_see_it_in_collections_either(
    as_owner, owner, media
):
    image = make_image(owner)
    Image.objects.filter(pk=image.pk).update(team_visible=True)
    make_collection(owner, [image], visibility=V.TEAM_VIEW)
    response = as_owner.post("/images/visibility", {"image": [image.pk], "team": "0"}, follow=True)
    assert (
        "1 image is now private: teammates no longer see it, in collections either."
        in response.content.decode()
    )
