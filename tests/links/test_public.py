"""The public side of share links (/s/…): the access matrix, what the files carry, the
headers, password throttling, stats without bots, and a page that costs the same queries
for 10 images as for 60."""

import io
import re
import zipfile
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image as PILImage

from flux2web.collections.models import CollectionItem
from flux2web.jobs.models import Job
from flux2web.links import services as links
from flux2web.links.models import ShareLink, ShareVisit
from tests.collections.factories import SECRET_PROMPT, make_collection, make_image
from tests.links.factories import share

pytestmark = pytest.mark.django_db
BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15"
CSP = re.compile(r"default-src 'none'.*frame-ancestors 'none'")


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def image_urls(path, image, sizes=("thumb", "web", "original")):
    return [f"{path}i/{image.pk}/{size}" for size in sizes]


def every_url(path, image):
    """Every public address of a link for one image."""
    return [path, *image_urls(path, image), f"{path}i/{image.pk}/web?dl=1", f"{path}all.zip"]


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def assert_gone(response, reference):
    """The one dead-link answer: same status, same body, same headers, nothing of the link."""
    assert response.status_code == 404
    assert body(response) == body(reference)
    assert SECRET_PROMPT.encode() not in body(response)
    assert b"Spring campaign" not in body(response)
    assert dict(response.headers) == dict(reference.headers)
    assert not response.cookies


@pytest.fixture
def unknown(client):
    return client.get("/s/" + links.new_token() + "/")


# ---- The access matrix. ----------------------------------------------------------------


def test_the_right_token_opens_the_page_and_every_allowed_size(client, owner, collection, images):
    _, path = share(owner, collection=collection, downloads="original")
    page = client.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Spring campaign — round 2" in html and html.count('class="tile"') == 3
    assert "/media/" not in html  # never the private media addresses
    for url in every_url(path, images[0]):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["X-Robots-Tag"] == "noindex, nofollow"


@pytest.mark.parametrize("who", ["anonymous", "owner", "teammate", "outsider"])
@pytest.mark.parametrize("state", ["wrong", "revoked", "expired", "rotated_old", "policy_off"])
def test_a_dead_token_answers_the_same_404_everywhere_for_everyone(
    client, owner, teammate, outsider, collection, images, unknown, state, who
):
    link, path = share(owner, collection=collection, downloads="original")
    if state == "wrong":
        path = path[:-5] + ("A" if path[-5] != "A" else "B") + path[-4:]
    elif state == "revoked":
        links.link_revoke(link=link)
    elif state == "expired":
        ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(1))
    elif state == "rotated_old":
        links.link_rotate(link=link)
    elif state == "policy_off":
        from flux2web.accounts.models import TeamPolicy

        TeamPolicy.objects.update_or_create(pk=1, defaults={"public_links_allowed": False})
    if who != "anonymous":
        client.force_login({"owner": owner, "teammate": teammate, "outsider": outsider}[who])
    for url in every_url(path, images[0]):
        assert_gone(client.get(url), unknown)
    assert_gone(client.post(path + "unlock", {"password": "x"}), unknown)


def test_a_slug_is_decoration_the_token_alone_opens_the_link(client, owner, collection):
    _, path = share(owner, collection=collection)
    token = path.rstrip("/").rsplit("/", 1)[1][-43:]
    # Either leads to the link's own address, where its page is kept (one per link).
    for other in (f"/s/{token}/", f"/s/anything-at-all-{token}/"):
        assert client.get(other)["Location"] == path
        assert client.get(other, follow=True).status_code == 200
    assert client.get(f"/s/{token[:-1]}/").status_code == 404
    assert client.get(f"/s/x{token}/").status_code == 404  # the slug needs its dash
    assert client.get("/s/spring-campaign-round-2/").status_code == 404  # never the slug alone


@pytest.mark.parametrize("who", ["anonymous", "owner", "teammate", "outsider"])
def test_a_password_link_shows_only_the_form_until_unlocked_for_everyone(
    client, owner, teammate, outsider, collection, images, unknown, who
):
    _, path = share(owner, collection=collection, password="open sesame", downloads="original")
    if who != "anonymous":
        client.force_login({"owner": owner, "teammate": teammate, "outsider": outsider}[who])
    page = client.get(path)
    html = page.content.decode()
    assert page.status_code == 200 and 'type="password"' in html
    assert f"i/{images[0].pk}/" not in html and "og:image" not in html
    assert SECRET_PROMPT not in html
    # The hole photo apps shipped: thumbnails and originals without the password.
    for url in every_url(path, images[0])[1:]:
        assert_gone(client.get(url), unknown)

    wrong = client.post(path + "unlock", {"password": "open says me"})
    assert wrong.status_code == 403 and "That password is not right." in wrong.content.decode()
    for url in every_url(path, images[0])[1:]:
        assert_gone(client.get(url), unknown)

    right = client.post(path + "unlock", {"password": "open sesame"})
    assert right.status_code == 302 and right["Location"] == path
    for url in every_url(path, images[0]):
        assert client.get(url).status_code == 200, url
    # Another browser has to type it too.
    assert_gone(Client().get(image_urls(path, images[0])[0]), unknown)


def test_the_password_goes_in_a_post_never_in_an_address(client, owner, collection):
    _, path = share(owner, collection=collection, password="open sesame")
    html = client.get(path).content.decode()
    assert 'method="post"' in html and f'action="{path}unlock"' in html
    assert client.get(path + "unlock?password=open+sesame").status_code == 405
    assert client.get(path + "i/1/thumb?password=open+sesame").status_code == 404


def test_an_unlock_is_asked_again_after_the_owner_changes_the_link(client, owner, collection):
    link, path = share(owner, collection=collection, password="open sesame")
    client.post(path + "unlock", {"password": "open sesame"})
    assert 'type="password"' not in client.get(path).content.decode()
    links.link_update(link=link, settings=links.LinkSettings(
        title="Round 3", expires_at=link.expires_at, password="new one"))  # fmt: skip
    assert 'type="password"' in client.get(path.replace("round-2", "round-3")).content.decode()


def test_sizes_follow_the_download_setting(client, owner, collection, images, unknown):
    link, path = share(owner, collection=collection, downloads="none")
    thumb, web, original = image_urls(path, images[0])
    assert client.get(thumb).status_code == 200 and client.get(web).status_code == 200
    assert_gone(client.get(original), unknown)
    assert_gone(client.get(web + "?dl=1"), unknown)
    assert_gone(client.get(path + "all.zip"), unknown)
    html = client.get(path).content.decode()
    assert "Download all" not in html and 'class="dl"' not in html and "/original" not in html

    ShareLink.objects.filter(pk=link.pk).update(downloads="web")
    assert_gone(client.get(original), unknown)
    download = client.get(web + "?dl=1")
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    names = zipfile.ZipFile(io.BytesIO(body(client.get(path + "all.zip")))).namelist()
    assert names == ["spring-campaign-round-2-1.jpg", "spring-campaign-round-2-2.jpg",
                     "spring-campaign-round-2-3.jpg"]  # fmt: skip

    ShareLink.objects.filter(pk=link.pk).update(downloads="original")
    assert client.get(original).status_code == 200


def test_a_size_that_does_not_exist_or_a_bad_id_is_a_404_not_a_500(client, owner, collection):
    _, path = share(owner, collection=collection, downloads="original")
    for tail in ("i/1/huge", "i/abc/web", "i/99999999999999999999999/web", "i/1/", "nope"):
        assert client.get(path + tail).status_code == 404, tail
    assert client.post(path, {}).status_code == 405


def test_removing_or_deleting_an_image_stops_its_urls_at_once(client, owner, collection, images):
    _, path = share(owner, collection=collection, downloads="original")
    gone_one, deleted, kept = images
    assert all(client.get(u).status_code == 200 for u in image_urls(path, gone_one))
    CollectionItem.objects.filter(collection=collection, image=gone_one).delete()
    Job.objects.filter(pk=deleted.job_id).update(deleted_at=timezone.now())
    for image in (gone_one, deleted):
        assert all(client.get(u).status_code == 404 for u in image_urls(path, image))
    assert client.get(path).content.decode().count('class="tile"') == 1
    assert client.get(image_urls(path, kept)[0]).status_code == 200


def test_a_live_link_shows_images_added_later_a_frozen_one_does_not(
    client, owner, teammate, collection, images
):
    _, live = share(owner, collection=collection)
    _, frozen = share(owner, image_ids=[images[0].pk, images[1].pk])
    later = make_image(owner, "added later")
    CollectionItem.objects.create(collection=collection, image=later, added_by=owner, position=9)
    assert client.get(image_urls(live, later)[0]).status_code == 200
    assert client.get(live).content.decode().count('class="tile"') == 4
    assert client.get(image_urls(frozen, later)[0]).status_code == 404
    assert client.get(image_urls(frozen, images[2])[0]).status_code == 404
    assert client.get(frozen).content.decode().count('class="tile"') == 2


def test_an_image_of_another_link_cannot_be_reached_through_this_one(client, owner, images):
    mine = make_collection(owner, images[:1])
    other = make_collection(owner, images[1:], title="Other")
    _, path = share(owner, collection=mine)
    share(owner, collection=other)
    assert client.get(image_urls(path, images[1])[0]).status_code == 404


# ---- What the files carry. -------------------------------------------------------------


def metadata_of(data: bytes) -> str:
    """Everything a metadata reader would find: PNG text chunks, EXIF, XMP, comments."""
    with PILImage.open(io.BytesIO(data)) as picture:
        found = [repr(picture.info), repr(dict(picture.getexif()))]
        found.append(repr(getattr(picture, "text", {})))
    return "\n".join(found)


def has_prompt(data: bytes) -> bool:
    return b"BLUEBIRD" in data or "BLUEBIRD" in metadata_of(data)


@pytest.mark.parametrize("kind", ["png", "jpeg"])
def test_files_served_with_prompts_hidden_carry_no_prompt(client, owner, media, kind):
    image = make_image(owner, kind=kind, size=(120, 80))
    with image.original.open("rb") as handle:
        assert has_prompt(handle.read())  # the stored original does carry it
    collection = make_collection(owner, [image])
    _, path = share(owner, collection=collection, downloads="original", show_parameters=True)
    for url in [*image_urls(path, image), f"{path}i/{image.pk}/web?dl=1"]:
        data = body(client.get(url))
        assert not has_prompt(data), url
        assert "exif" not in metadata_of(data) and "xmp" not in metadata_of(data).lower()
    archive = zipfile.ZipFile(io.BytesIO(body(client.get(path + "all.zip"))))
    for name in archive.namelist():
        assert "heron" not in name and not has_prompt(archive.read(name))


def test_a_stripped_png_keeps_every_pixel(client, owner, media):
    image = make_image(owner, size=(50, 40))
    _, path = share(owner, collection=make_collection(owner, [image]), downloads="original")
    served = PILImage.open(io.BytesIO(body(client.get(image_urls(path, image)[2]))))
    with image.original.open("rb") as handle:
        stored = PILImage.open(io.BytesIO(handle.read()))
        assert served.tobytes() == stored.tobytes() and served.size == stored.size


def test_with_prompts_and_parameters_shown_the_original_is_served_as_made(client, owner, media):
    image = make_image(owner)
    collection = make_collection(owner, [image])
    _, path = share(owner, collection=collection, downloads="original", show_prompts=True,
                    show_parameters=True)  # fmt: skip
    assert has_prompt(body(client.get(image_urls(path, image)[2])))
    html = client.get(path).content.decode()
    assert SECRET_PROMPT in html and "seed 1234" in html


def test_the_page_shows_only_the_facts_the_owner_chose(client, owner, collection):
    link, path = share(owner, collection=collection)
    html = client.get(path).content.decode()
    for fact in (SECRET_PROMPT, "seed 1234", "FLUX.2 pro", "olivia", "$0.05", "heron"):
        assert fact not in html
    assert 'alt="Image 1 of 3"' in html
    ShareLink.objects.filter(pk=link.pk).update(show_creator=True, show_cost=True)
    html = client.get(path).content.decode()
    assert "olivia" in html and "$0.05" in html and SECRET_PROMPT not in html


# ---- Headers, previews, layout. ---------------------------------------------------------


def test_every_answer_carries_the_privacy_headers(client, owner, collection, images, unknown):
    _, path = share(owner, collection=collection, downloads="original")
    responses = [client.get(path), unknown, *(client.get(u) for u in every_url(path, images[0]))]
    for response in responses:
        assert response["X-Robots-Tag"] == "noindex, nofollow"
        assert response["Referrer-Policy"] == "no-referrer"
        assert response["Cache-Control"].startswith("private")
        assert CSP.search(response["Content-Security-Policy"])
    page = client.get(path)
    assert page["Cache-Control"] == "private, no-store"
    html = page.content.decode()
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert "style=" not in html and "<script>" not in html  # a strict CSP allows neither
    assert not re.search(r"\son[a-z]+=", html)


def test_open_graph_preview_unless_a_password_or_previews_off(client, owner, collection, images):
    _, path = share(owner, collection=collection)
    html = client.get(path).content.decode()
    assert 'property="og:title" content="Spring campaign — round 2"' in html
    assert 'content="3 images"' in html
    cover = re.search(r'property="og:image" content="([^"]+)"', html).group(1)
    assert cover.endswith(f"{path}i/{images[0].pk}/web") and cover.startswith("http")
    _, no_preview = share(owner, collection=collection, allow_preview=False)
    assert "og:" not in client.get(no_preview).content.decode()
    _, locked = share(owner, collection=collection, password="x")
    assert "og:" not in client.get(locked).content.decode()


def test_the_page_uses_its_own_layout_without_the_app_navigation(client, owner, collection):
    _, path = share(owner, collection=collection)
    html = client.get(path).content.decode()
    assert "/static/css/share.css" in html and "/static/js/share.js" in html
    assert "mainnav" not in html and "Sign out" not in html and "/gallery/" not in html
    assert "data-lb" in html and 'width="96" height="64"' in html  # real aspect ratios


# ---- Throttling. -----------------------------------------------------------------------


def test_password_guessing_is_stopped_after_ten_tries_with_a_clear_message(
    client, owner, collection
):
    link, path = share(owner, collection=collection, password="open sesame")
    for _ in range(10):
        assert client.post(path + "unlock", {"password": "guess"}).status_code == 403
    blocked = client.post(path + "unlock", {"password": "open sesame"})
    assert blocked.status_code == 429
    assert "Too many tries; wait 15 minutes." in blocked.content.decode()
    link.refresh_from_db()
    assert link.failed_passwords == 10
    # Someone at another address, and the same address on another link, are not locked out.
    elsewhere = Client(REMOTE_ADDR="10.0.0.9")
    assert elsewhere.post(path + "unlock", {"password": "open sesame"}).status_code == 302
    _, other = share(owner, collection=collection, password="other")
    assert client.post(other + "unlock", {"password": "other"}).status_code == 302


def test_an_empty_password_is_explained_and_not_counted(client, owner, collection):
    link, path = share(owner, collection=collection, password="open sesame")
    response = client.post(path + "unlock", {})
    assert response.status_code == 400 and "Enter the password." in response.content.decode()
    link.refresh_from_db()
    assert link.failed_passwords == 0


# ---- Stats. ----------------------------------------------------------------------------

BOTS = [
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Twitterbot/1.0", "WhatsApp/2.23.20.0 A", "Mozilla/5.0 (compatible; Discordbot/2.0)",
    "TelegramBot (like TwitterBot)", "LinkedInBot/1.0 (compatible; Mozilla/5.0)",
    "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (Linux; Android 11) Chrome/99.0 Mobile Safari/537.36 (compatible; "
    "Google-PageRenderer; +https://developers.google.com/+/web/snippet/)",
    "facebookexternalhit/1.1;kakaotalk-scrap/1.0; +https://devtalk.kakao.com/",
    "Mozilla/5.0 (compatible; Snap URL Preview Service; bot; snapchat; "
    "https://developers.snap.com/robots)",
    "Go-http-client/1.1",
    "okhttp/4.9.0",
    "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
]  # fmt: skip


IN_APP_BROWSERS = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 KAKAOTALK 10.4.5",
    "Mozilla/5.0 (Linux; Android 13; SM-S911N) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Mobile Safari/537.36;KAKAOTALK 2410450",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 Snapchat/12.60.0.44 (like Safari/8617.1.17.10.9)",
]


@pytest.mark.parametrize("agent", IN_APP_BROWSERS)
def test_a_person_in_a_chat_apps_own_browser_is_a_visitor(owner, collection, agent):
    link, path = share(owner, collection=collection)
    Client(HTTP_USER_AGENT=agent).get(path)
    link.refresh_from_db()
    assert link.views == 1


def test_views_and_unique_visitors_count_people_not_preview_bots(owner, collection):
    link, path = share(owner, collection=collection)
    for agent in BOTS:
        assert Client(HTTP_USER_AGENT=agent).get(path).status_code == 200
    link.refresh_from_db()
    assert link.views == 0 and not ShareVisit.objects.exists()
    phone = Client(HTTP_USER_AGENT=BROWSER)
    phone.get(path)
    phone.get(path)
    phone.get(path + "i/1/thumb")  # images are not page views
    Client(HTTP_USER_AGENT=BROWSER + " other", REMOTE_ADDR="10.0.0.7").get(path)
    link.refresh_from_db()
    assert link.views == 3 and link.last_viewed_at is not None
    assert ShareVisit.objects.filter(link=link).count() == 2
    # The visitor is a salted hash: no address or browser is stored.
    assert "127.0.0.1" not in repr(list(ShareVisit.objects.values()))
    assert all(len(v) == 64 for v in ShareVisit.objects.values_list("visitor", flat=True))


def test_downloads_are_counted_and_the_owner_does_not_count_themselves(
    client, owner, collection, images
):
    link, path = share(owner, collection=collection, downloads="original")
    visitor = Client(HTTP_USER_AGENT=BROWSER)
    body(visitor.get(image_urls(path, images[0])[2]))
    body(visitor.get(path + "all.zip"))
    visitor.get(image_urls(path, images[0])[1])  # looking is not downloading
    Client(HTTP_USER_AGENT=BOTS[0]).get(image_urls(path, images[0])[2])
    client.force_login(owner)
    client.get(path)
    link.refresh_from_db()
    assert link.downloads_count == 2 and link.views == 0


# ---- Cost. -----------------------------------------------------------------------------


def test_the_query_count_does_not_grow_with_the_images(client, owner, media):
    collection = make_collection(owner, [])
    _, path = share(owner, collection=collection)
    visitor = Client(HTTP_USER_AGENT=BROWSER)

    def count(n):
        for _ in range(n):
            image = make_image(owner, size=(30, 20))
            CollectionItem.objects.create(collection=collection, image=image, added_by=owner)
        with CaptureQueriesContext(connection) as queries:
            assert visitor.get(path).status_code == 200
        return len(queries)

    ten = count(10)
    sixty = count(50)
    assert ten == sixty, (ten, sixty)
    assert ten <= 6


def test_download_all_streams_the_archive(client, owner, collection):
    _, path = share(owner, collection=collection, downloads="original")
    response = client.get(path + "all.zip")
    assert response.streaming and response["Content-Type"] == "application/zip"
    assert 'filename="spring-campaign-round-2.zip"' in response["Content-Disposition"]
    chunks = list(response.streaming_content)
    assert len(chunks) > 3
    assert zipfile.ZipFile(io.BytesIO(b"".join(chunks))).testzip() is None


def test_a_deactivated_owners_links_stop(client, owner, collection, django_user_model):
    _, path = share(owner, collection=collection)
    django_user_model.objects.filter(pk=owner.pk).update(is_active=False)
    assert client.get(path).status_code == 404


def test_prompts_and_addresses_are_escaped_on_the_page(client, owner, media):
    image = make_image(owner, '<script>alert("x")</script> & "quotes"')
    collection = make_collection(owner, [image])
    _, path = share(owner, collection=collection, show_prompts=True, show_parameters=True)
    html = client.get(path).content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    token = path.strip("/")[-43:]
    # A made-up slug is never put on a page: it leads to the link's own address.
    tricky = client.get(f'/s/"><img src=x>-{token}/')
    assert tricky.status_code == 302 and tricky["Location"] == path


def test_a_head_request_is_answered_but_not_counted(owner, collection):
    link, path = share(owner, collection=collection)
    assert Client(HTTP_USER_AGENT=BROWSER).head(path).status_code == 200
    link.refresh_from_db()
    assert link.views == 0


def test_deleting_an_image_deletes_the_copies_links_made_of_it(client, owner, media):
    from flux2web.jobs.services import delete_images

    image = make_image(owner)
    _, path = share(owner, collection=make_collection(owner, [image]), downloads="original")
    for url in image_urls(path, image):
        assert client.get(url).status_code == 200
    shared = list((media / "shared").rglob("*"))
    assert [p for p in shared if p.is_file()]
    delete_images(owner=owner, image_ids=[image.pk])
    assert not [p for p in (media / "shared").rglob("*") if p.is_file()]
    assert all(client.get(url).status_code == 404 for url in image_urls(path, image))


def test_a_visitors_unlock_lasts_only_for_their_browser_session(owner, collection):
    _, path = share(owner, collection=collection, password="open sesame")
    visitor = Client()
    visitor.post(path + "unlock", {"password": "open sesame"})
    assert visitor.cookies["sessionid"]["expires"] == ""  # no date: gone when the browser closes
    assert visitor.cookies["sessionid"]["max-age"] == ""


def test_a_missing_or_broken_stored_file_is_a_404_not_a_500(client, owner, media):
    missing, broken = make_image(owner), make_image(owner)
    missing.original.storage.delete(missing.original.name)
    missing.thumbnail.storage.delete(missing.thumbnail.name)
    with broken.original.storage.open(broken.original.name, "wb") as handle:
        handle.write(b"not an image at all")
    collection = make_collection(owner, [missing, broken])
    _, path = share(owner, collection=collection, downloads="original")
    for image in (missing, broken):
        for url in image_urls(path, image)[1:]:
            assert client.get(url).status_code == 404, url
    assert client.get(image_urls(path, missing)[0]).status_code == 404
    archive = zipfile.ZipFile(io.BytesIO(body(client.get(path + "all.zip"))))
    assert archive.namelist() == []  # left out, the archive still whole
