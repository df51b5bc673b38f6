"""Kept HTML (flux2web/lib/kept.py) never outlives its markup: a deploy that changes a
card's or a tile's template shows the new markup on the very next view, though the cache
(Redis, in production) still holds the old rendering."""

import shutil
import uuid

import pytest
from django.conf import settings as django_settings

from tests.collections.factories import make_collection, make_image
from tests.jobs.factories import finish, make_jobs
from tests.links.factories import share

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, owner, providers, media):
    client.force_login(owner)
    return client


@pytest.fixture
def templates(settings, tmp_path):
    """A copy of the templates, used in their place, that a test may redesign."""
    folder = tmp_path / "templates"
    shutil.copytree(django_settings.TEMPLATES[0]["DIRS"][0], folder)
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [folder]}]
    return folder


def deploy(settings, templates, path: str, before: str, after: str) -> None:
    """New markup in `path` and a new process to serve it, with the same cache as before."""
    template = templates / path
    text = template.read_text()
    assert before in text
    template.write_text(text.replace(before, after, 1))
    from flux2web.lib import kept

    kept.code_version.cache_clear()  # what starting a new process does
    settings.TEMPLATES = [{**settings.TEMPLATES[0]}]  # template loaders read the files again


def a_finished_job(owner) -> str:
    finish(make_jobs(owner, prompt="a heron at night")[0])
    return ""


def a_collection(owner) -> str:
    return f"{make_collection(owner, [make_image(owner)]).pk}/"


def a_share_link(owner) -> str:
    return share(owner, collection=make_collection(owner, [make_image(owner)]))[1]


@pytest.mark.parametrize(
    ("url", "made", "path", "markup"),
    [
        ("/", a_finished_job, "studio/home.html", '<article class="job-card'),  # its card
        ("/gallery/", a_finished_job, "partials/tile.html", '<figure class="jitem tile'),
        ("/collections/", a_collection, "sharing/collection.html", '<li class="jitem'),
        ("", a_share_link, "share/page.html", '<figure class="tile"'),  # a public page
    ],
)
def test_kept_html_shows_new_markup_on_the_first_view_after_a_deploy(
    signed_in, owner, settings, templates, url, made, path, markup
):
    url += made(owner)
    for _ in range(2):  # rendered, then served from where it is kept
        assert "data-redesigned" not in signed_in.get(url).content.decode()
    new = markup.replace(" class=", " data-redesigned class=", 1)
    deploy(settings, templates, path, markup, new)
    assert signed_in.get(url).content.decode().count("data-redesigned") == 1


def test_any_template_changed_is_a_new_key_for_every_kept_fragment(settings, templates):
    from flux2web.lib import kept

    before = kept.key("anything", (1, "shown"))
    assert kept.key("anything", (1, "shown")) == before  # the same, while nothing changes
    deploy(settings, templates, "base.html", "<html", "<html data-redesigned")
    assert kept.key("anything", (1, "shown")) != before


def test_kept_each_draws_the_missing_items_together_in_their_order():
    from flux2web.lib.kept import kept_each

    asked, run = [], uuid.uuid4().hex  # nothing kept by an earlier run (Redis outlives it)

    def render_all(items):
        asked.append(items)
        return [f"<li>{item}</li>" for item in items]

    def shows(item):
        return (run, item)

    assert kept_each("each", [1, 2], shows, render_all=render_all) == ["<li>1</li>", "<li>2</li>"]
    html = kept_each("each", [3, 1, 4, 2], shows, render_all=render_all)
    assert html == ["<li>3</li>", "<li>1</li>", "<li>4</li>", "<li>2</li>"]
    assert asked == [[1, 2], [3, 4]]  # only what was missing, in one call
