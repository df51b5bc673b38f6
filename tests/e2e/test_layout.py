"""In Chromium: every page at phone width without sideways
scrolling and a navigation that collapses into a menu; at 1366x768 Generate is on screen,
there is one file chooser, the help follows the provider, and changing options logs no
error. Screenshots of each page at phone width go to tests/e2e/artifacts/."""

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from flux2web.billing.models import Quota
from flux2web.jobs.models import Job
from tests.collections.factories import make_collection, make_image
from tests.e2e.helpers import (
    ARTIFACTS,
    PHONE,
    STICKING_OUT,
    console_errors,
    fits,
    hidden_parts,
    open_studio,
    use_session,
)
from tests.jobs.factories import make_jobs
from tests.links.factories import share

pytestmark = pytest.mark.django_db(transaction=True)


def seed_everything(admin, teammate, providers):
    """A person with history: images, a collection, a link, jobs in every state, spending."""
    images = [
        make_image(admin, f"a long, winding prompt about herons number {n} " * 3, size=size)
        for n, size in enumerate([(160, 90), (90, 160), (120, 120), (160, 90)])
    ]
    teammate_image = make_image(teammate, "a teammate's fox in the snow")
    teammate_image.team_visible = True
    teammate_image.save()
    collection = make_collection(admin, images, title="A rather long collection title for phones")
    _, path = share(admin, collection=collection)
    (running,) = make_jobs(admin, prompt="still running", aspect_ratio="1:1")
    Job.objects.filter(pk=running.pk).update(state=Job.State.RUNNING, provider=providers["KIE.ai"],
                                             submitted_at=timezone.now())  # fmt: skip
    return images, collection, path


def test_every_page_fits_a_phone_and_the_navigation_is_a_menu(
    live_server, new_page, admin_user, teammate, providers, media
):
    images, collection, share_path = seed_everything(admin_user, teammate, providers)
    page = new_page(viewport=PHONE)
    use_session(page, live_server, Client(), admin_user)
    pages = {
        "studio": "/",
        "gallery": "/gallery/",
        "team-gallery": "/gallery/team/",
        "collections": "/collections/",
        "collection": f"/collections/{collection.pk}/",
        "job": f"/jobs/{images[0].job_id}/",
        "usage": "/usage/",
        "team": "/team/",
        "team-usage": "/team/usage/",
        "team-member": f"/team/{teammate.pk}/",
        "providers": "/providers/",
        "provider": f"/providers/{providers['KIE.ai'].pk}/",
        "links": "/links/",
        "collection-sharing": f"/collections/{collection.pk}/sharing",
        "image-settings": "/settings/images",
        "share-page": share_path,
    }
    too_wide = {}
    for name, path in pages.items():
        response = page.goto(live_server.url + path)
        assert response.status == 200, (name, response.status)
        page.screenshot(path=ARTIFACTS / f"phone-{name}.png", full_page=True)
        if (width := fits(page)) > PHONE["width"]:
            too_wide[name] = (width, page.evaluate(STICKING_OUT, PHONE["width"]))
    assert too_wide == {}

    # The navigation: one menu button, every place inside it, nothing cut off.
    page.goto(live_server.url + "/usage/")
    menu = page.locator("summary", has_text="Menu")
    expect(menu).to_be_visible()
    menu.click()
    for place in ("Studio", "Gallery", "Collections", "Usage", "Team", "Providers"):
        link = page.get_by_role("navigation", name="Main").get_by_role("link", name=place)
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], place
    page.screenshot(path=ARTIFACTS / "phone-menu-open.png")


def test_generate_is_on_screen_at_1366x768_with_the_most_options(
    live_server, new_page, owner, providers, media
):
    page = new_page(viewport={"width": 1366, "height": 768})
    open_studio(page, live_server, owner)
    page.get_by_label("Provider").select_option(label="LiangXin")  # seed, size, upsampling
    expect(page.get_by_role("spinbutton", name="Seed")).to_be_visible()
    generate = page.get_by_role("button", name="Generate")
    expect(generate).to_be_in_viewport()
    page.screenshot(path=ARTIFACTS / "studio-1366x768.png")


def test_there_is_one_file_chooser_and_it_still_takes_files(
    live_server, page, owner, providers, media, tmp_path
):
    open_studio(page, live_server, owner)
    native = page.locator("#id_reference_files")
    box = native.bounding_box()
    assert box is None or (box["width"] <= 1 and box["height"] <= 1)  # hidden, not removed
    chooser = page.get_by_text("choose files")
    expect(chooser).to_have_count(1)
    with page.expect_file_chooser() as chosen:
        chooser.click()
    ref = tmp_path / "ref.png"
    from tests.e2e.helpers import png_bytes

    ref.write_bytes(png_bytes((32, 32)))
    chosen.value.set_files(str(ref))
    expect(page.locator(".previews li")).to_have_count(1)


def test_the_help_follows_the_chosen_provider_and_options_log_no_error(
    live_server, page, owner, providers, media
):
    errors = console_errors(page)
    open_studio(page, live_server, owner)
    compose = page.locator("#compose")
    expect(compose).to_contain_text("Auto follows the team's routing")
    page.get_by_label("Provider").select_option(label="KIE.ai")
    expect(compose).not_to_contain_text("Auto follows the team's routing")
    expect(compose).to_contain_text("Only KIE.ai")
    page.get_by_label("Model").select_option("flex")
    page.get_by_label("Aspect ratio").select_option("16:9")
    page.get_by_label("Resolution").select_option("2K")
    page.get_by_role("spinbutton", name="Images").fill("2")
    page.get_by_role("spinbutton", name="Images").press("Tab")
    page.get_by_label("Provider").select_option(label="Auto")
    expect(compose).to_contain_text("Auto follows the team's routing")
    page.wait_for_timeout(300)
    assert errors == []


STUDIO_SIZES = [{"width": 1366, "height": 850}, PHONE]

# Scroll the form (the panel on a desktop, the page on a phone) until `selector` sits just
# above the pinned Generate bar, where a person's eye and pointer are before pressing it.
JUST_ABOVE_THE_BAR = """(selector) => {
  const el = document.querySelector(selector);
  const bar = document.querySelector('#compose .generate-bar');
  const panel = document.querySelector('.studio-compose');
  const scroller = getComputedStyle(panel).overflowY === 'auto' ? panel : document.scrollingElement;
  scroller.scrollBy(0, el.getBoundingClientRect().bottom - bar.getBoundingClientRect().top + 4);
}"""


def seen_whole(messages) -> bool:
    """Whether one of these elements (a message may be said in two places) is all in sight."""
    return any(not hidden_parts(m) for m in messages.all())


@pytest.mark.parametrize("viewport", STUDIO_SIZES, ids=["1366x850", "phone"])
def test_what_generate_answers_is_in_sight_not_under_the_pinned_button(
    live_server, new_page, owner, providers, media, viewport
):
    Quota.objects.create(user=owner, monthly_images=2)
    page = new_page(viewport=viewport)
    open_studio(page, live_server, owner)
    images = page.get_by_role("spinbutton", name="Images")
    images.fill("3")
    page.evaluate(JUST_ABOVE_THE_BAR, "#id_count")
    page.get_by_role("button", name="Generate").click()  # no prompt yet
    no_prompt = page.get_by_text("Write a prompt.")
    expect(no_prompt.first).to_be_attached()
    assert seen_whole(no_prompt), [hidden_parts(m) for m in no_prompt.all()]

    page.get_by_label("Prompt", exact=True).fill("a lighthouse at golden hour")
    page.evaluate(JUST_ABOVE_THE_BAR, "#id_count")
    page.get_by_role("button", name="Generate").click()  # three images, two left
    over = page.get_by_text("Over your monthly limit")
    expect(over.first).to_be_attached()
    page.screenshot(path=ARTIFACTS / f"studio-over-quota-{viewport['width']}.png")
    assert seen_whole(over), [hidden_parts(m) for m in over.all()]


@pytest.mark.parametrize("viewport", STUDIO_SIZES, ids=["1366x850", "phone"])
def test_a_provider_hint_that_changes_comes_into_sight(
    live_server, new_page, owner, providers, media, viewport
):
    page = new_page(viewport=viewport)
    open_studio(page, live_server, owner)
    page.evaluate(JUST_ABOVE_THE_BAR, "#id_provider")
    page.get_by_label("Provider").select_option(label="KIE.ai")
    hint = page.get_by_text("Only KIE.ai: if it refuses")
    expect(hint).to_be_visible()
    page.screenshot(path=ARTIFACTS / f"studio-provider-hint-{viewport['width']}.png")
    assert hidden_parts(hint) == []


@pytest.mark.parametrize("viewport", STUDIO_SIZES, ids=["1366x850", "phone"])
def test_a_remix_says_what_it_costs_in_sight_and_references_are_found_without_scrolling(
    live_server, new_page, owner, teammate, providers, media, viewport
):
    image = make_image(teammate, "a teammate's heron at dawn")
    image.team_visible = True
    image.save()
    page = new_page(viewport=viewport)
    open_studio(page, live_server, owner)
    assert hidden_parts(page.get_by_text("choose files")) == []  # the plain studio

    page.goto(f"{live_server.url}/?image={image.pk}")
    notice = page.get_by_text("charged to your own quota")
    expect(notice).to_be_visible()
    page.screenshot(path=ARTIFACTS / f"studio-remix-{viewport['width']}.png")
    assert hidden_parts(notice) == []
    assert hidden_parts(page.get_by_text("choose files")) == []
