"""The gallery: search and filters, infinite scroll, bulk delete and ZIP; the media view."""

import io
import zipfile
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from flux2web.jobs.models import Image, Job
from tests.studio.helpers import made, tiles

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def test_it_shows_each_image_newest_first_with_lazy_thumbnails(signed_in, owner):
    old = made(owner, "an old barn")
    made(owner, "a new bridge")
    html = signed_in.get("/gallery/").content.decode()
    assert tiles(html) == 2
    assert html.index("a new bridge") < html.index("an old barn")
    assert 'loading="lazy"' in html and "data-lightbox" in html
    assert old.images.get().thumbnail.name in html


def test_search_finds_words_of_the_prompt_anywhere_in_the_history(signed_in, owner):
    made(owner, "Red fox in the snow")
    made(owner, "a blue whale")
    html = signed_in.get("/gallery/?q=fox+SNOW").content.decode()
    assert tiles(html) == 1 and "Red fox" in html
    assert tiles(signed_in.get("/gallery/?q=fox+whale").content.decode()) == 0


def test_filters_by_model_provider_favourites_and_dates(signed_in, owner, providers):
    fox = made(owner, "fox", model="flex")
    owl = made(owner, "owl")
    Job.objects.filter(pk=owl.pk).update(
        provider=providers["Apixo"], favourite=True, created_at=timezone.now() - timedelta(days=10)
    )
    get = lambda q: signed_in.get(f"/gallery/?{q}").content.decode()  # noqa: E731
    assert "fox" in get("model=flex") and tiles(get("model=flex")) == 1
    assert tiles(get(f"provider={providers['Apixo'].pk}")) == 1
    assert tiles(get("favourites=on")) == 1 and "owl" in get("favourites=on")
    since = (timezone.localdate() - timedelta(days=2)).isoformat()
    assert tiles(get(f"since={since}")) == 1 and "fox" in get(f"since={since}")
    assert fox


def test_bad_filters_are_explained_and_ignored(signed_in, owner):
    made(owner, "fox")
    html = signed_in.get("/gallery/?since=yesterday&until=2020-01-01&model=huge").content.decode()
    assert "Enter a valid date." in html and "Select a valid choice." in html
    assert tiles(html) == 1


def test_the_query_count_does_not_grow_with_the_images(signed_in, owner):
    def count():
        cache.clear()  # the rendered page is cached; count what rendering it costs
        with CaptureQueriesContext(connection) as queries:
            assert signed_in.get("/gallery/").status_code == 200
        return len(queries)

    for n in range(10):
        made(owner, f"image {n}")
    ten = count()
    for n in range(50):
        made(owner, f"more {n}")
    assert count() == ten
    assert ten <= 8


@pytest.mark.parametrize("search", ["?q=picture", ""], ids=["filtered", "unfiltered"])
def test_infinite_scroll_pages_in_with_htmx(signed_in, owner, outsider, search):
    # The unfiltered view runs a statement compiled once per process; both must page alike.
    for n in range(50):
        made(owner, f"picture {n}")
    made(outsider, "picture of theirs")
    html = signed_in.get(f"/gallery/{search}").content.decode()
    assert tiles(html) == 48 and 'hx-trigger="revealed"' in html
    more = html.split('id="gallery-more"')[1].split('hx-get="')[1].split('"')[0]
    page = signed_in.get(
        "/gallery/" + more.replace("&amp;", "&"), headers={**HX, "HX-Target": "gallery-more"}
    )
    text = page.content.decode()
    assert tiles(text) == 2 and "<html" not in text and 'id="gallery-more"' not in text
    assert "picture 1<" in text and "picture 0<" in text and "of theirs" not in text
    assert "HX-Target" in page["Vary"]


def test_the_filter_form_swaps_only_the_results(signed_in, owner):
    made(owner, "fox")
    html = signed_in.get("/gallery/?q=fox", headers={**HX, "HX-Target": "gallery-results"})
    text = html.content.decode()
    assert text.lstrip().startswith('<div id="gallery-results">') and tiles(text) == 1


def test_other_peoples_images_never_show(signed_in, outsider):
    made(outsider, "their fox")
    assert tiles(signed_in.get("/gallery/?q=fox").content.decode()) == 0


def test_download_selected_as_one_zip(signed_in, owner, outsider):
    mine = [made(owner, f"zip me {n}").images.get() for n in range(2)]
    theirs = made(outsider, "not yours").images.get()
    response = signed_in.post("/gallery/zip", {"image": [mine[0].pk, mine[1].pk, theirs.pk, "x"]})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = archive.namelist()
    assert len(names) == 2 and all("zip-me" in n for n in names)
    assert archive.read(names[0]) == b"png-bytes"


def test_an_empty_selection_says_so(signed_in):
    response = signed_in.post("/gallery/zip", {}, follow=True)
    assert "Select at least one image to download." in response.content.decode()
    response = signed_in.post("/gallery/delete", {}, follow=True)
    assert "Select at least one image to delete." in response.content.decode()


def test_delete_selected_removes_only_mine(signed_in, owner, outsider, media):
    mine = made(owner, "delete me").images.get()
    theirs = made(outsider, "keep me").images.get()
    path = media / mine.original.name
    response = signed_in.post("/gallery/delete", {"image": [mine.pk, theirs.pk]}, follow=True)
    assert "Deleted 1 image." in response.content.decode()
    assert not path.exists()
    assert list(Image.objects.values_list("pk", flat=True)) == [theirs.pk]


def test_bulk_actions_need_post(signed_in):
    assert signed_in.get("/gallery/zip").status_code == 405
    assert signed_in.get("/gallery/delete").status_code == 405
    assert signed_in.post("/gallery/").status_code == 405


# ---- The media view. ------------------------------------------------------------------


def test_media_is_served_to_the_owner_with_cache_headers(signed_in, owner):
    image = made(owner, "cached").images.get()
    response = signed_in.get(f"/media/{image.original.name}")
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"png-bytes"
    assert response["Content-Type"] == "image/png"
    assert "private" in response["Cache-Control"] and response["ETag"]
    again = signed_in.get(
        f"/media/{image.original.name}", headers={"If-None-Match": response["ETag"]}
    )
    assert again.status_code == 304
    thumb = signed_in.get(f"/media/{image.thumbnail.name}")
    assert thumb["Content-Type"] == "image/jpeg"
    download = signed_in.get(f"/media/{image.original.name}?download=1")
    assert 'attachment; filename="flux2web-' in download["Content-Disposition"]


def test_media_is_hidden_from_others_but_not_from_staff(
    client, owner, outsider, staff, providers, media
):
    image = made(owner, "private").images.get()
    url = f"/media/{image.original.name}"
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    client.force_login(staff)
    assert client.get(url).status_code == 200
    client.logout()
    assert client.get(url).status_code == 302  # to sign-in
    client.force_login(owner)
    assert client.get("/media/images/1/nothing-here.png").status_code == 404
    assert client.post(url).status_code == 405


def test_a_new_image_shows_at_once_despite_the_page_cache(signed_in, owner):
    made(owner, "first heron")
    assert tiles(signed_in.get("/gallery/").content.decode()) == 1
    made(owner, "second heron")  # mirrored: the person's gallery token changes
    assert tiles(signed_in.get("/gallery/").content.decode()) == 2
    job = Job.objects.get(prompt="second heron")
    signed_in.post(f"/jobs/{job.pk}/favourite")
    assert tiles(signed_in.get("/gallery/?favourites=on").content.decode()) == 1
    signed_in.post(f"/jobs/{job.pk}/favourite")
    assert tiles(signed_in.get("/gallery/?favourites=on").content.decode()) == 0


def test_a_zip_with_a_missing_stored_file_still_downloads_the_rest_and_says_so(signed_in, owner):
    kept, lost = (made(owner, f"zip me {n}").images.get() for n in range(2))
    lost.original.storage.delete(lost.original.name)
    response = signed_in.post("/gallery/zip", {"image": [kept.pk, lost.pk]})
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = archive.namelist()
    assert len(names) == 2 and "README.txt" in names
    assert "could not be read" in archive.read("README.txt").decode()
