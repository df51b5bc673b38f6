"""The studio in Debian's Chromium against a live server, a real qcluster and the sandbox:
generate and watch the picture arrive, use a reference image, cancel, find it in the gallery."""

import re
import zipfile

import pytest
from django.test import Client
from playwright.sync_api import expect

from flux2web.billing.models import Quota
from flux2web.jobs.models import Job
from tests.e2e.helpers import (
    ARTIFACTS,
    PHONE,
    png_bytes,
    sign_in,
    stored_image,
    use_session,
    wait_until,
)

pytestmark = pytest.mark.django_db(transaction=True)

# Records every state the first card shows, so the test sees the whole sequence even
# when a state lasts less than one of Playwright's polls.
WATCH_STATES = """() => {
  window.__states = [];
  const note = () => {
    const card = document.querySelector('#job-list .job-card');
    const last = window.__states.at(-1);
    if (card && last !== card.dataset.state) window.__states.push(card.dataset.state);
  };
  new MutationObserver(note).observe(document.getElementById('job-list'),
    {subtree: true, childList: true, attributes: true, attributeFilter: ['data-state']});
}"""


def test_generate_and_watch_the_card_go_from_queued_to_a_picture(
    live_server, page, owner, providers, sandbox, cluster
):
    sandbox.config.duration = 3
    sign_in(page, live_server.url)
    expect(page.get_by_role("heading", name="Studio")).to_be_visible()
    page.evaluate("window.__sameDocument = true")
    page.evaluate(WATCH_STATES)

    prompt = page.get_by_label("Prompt", exact=True)
    prompt.fill("a lighthouse in a storm at night")
    expect(page.locator("#prompt-counter")).to_have_text("32 / 5000")
    prompt.press("Control+Enter")

    card = page.locator("#job-list .job-card").first
    expect(card).to_have_attribute("data-state", "queued")
    expect(card).to_contain_text("a lighthouse in a storm at night")
    # The typed prompt is still there for the next variation.
    expect(page.get_by_label("Prompt", exact=True)).to_have_value(
        "a lighthouse in a storm at night"
    )

    cluster().ready()  # the worker starts only now, so "queued" was really on screen
    expect(card.locator(".thumb img")).to_be_visible(timeout=30_000)
    expect(card).to_have_attribute("data-state", "succeeded")
    expect(card.locator(".badge")).to_have_text("Done")

    assert page.evaluate("window.__sameDocument") is True  # never reloaded
    states = page.evaluate("window.__states")
    assert states[0] == "queued" and states[-1] == "succeeded", states
    assert "running" in states, states
    expect(page.locator("#refresher[hx-get]")).to_have_count(0)  # polling stops
    page.screenshot(path=ARTIFACTS / "studio.png", full_page=True)
    card.screenshot(path=ARTIFACTS / "finished-card.png")

    card.get_by_role("link", name="Open").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    expect(page.get_by_role("link", name="Download")).to_be_visible()
    expect(page.locator(".event-log")).to_contain_text("succeeded")


def test_generate_with_an_uploaded_reference_image(
    live_server, page, owner, providers, sandbox, cluster, tmp_path
):
    reference = tmp_path / "landscape.png"
    reference.write_bytes(png_bytes((640, 480)))
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/")
    worker = cluster()

    # Choosing KIE.ai re-renders the options: it takes "auto", which follows the reference.
    page.get_by_label("Provider", exact=True).select_option(label="KIE.ai")
    expect(page.get_by_label("Aspect ratio", exact=True)).to_contain_text(
        "like the first reference"
    )
    page.get_by_label("Aspect ratio", exact=True).select_option("auto")
    page.get_by_label("Upload reference images").set_input_files(str(reference))
    expect(page.locator(".previews img")).to_have_count(1)
    page.get_by_label("Prompt", exact=True).fill("the same view in winter")
    page.get_by_role("button", name="Generate").click()

    card = page.locator("#job-list .job-card").first
    expect(card.locator(".thumb img")).to_be_visible(timeout=30_000)
    job = Job.objects.get()
    assert "/refs/" in job.reference_urls[0]
    # The sandbox fetched our signed URL: "auto" took the 4:3 shape of the upload.
    assert (job.images.get().width, job.images.get().height) == (1664, 1248), worker.output()


def test_cancel_a_running_job(live_server, page, owner, providers, sandbox, cluster):
    sandbox.config.duration = 60
    use_session(page, live_server, Client(), owner)
    cluster().ready()
    page.goto(live_server.url + "/")
    page.get_by_label("Prompt", exact=True).fill("a very slow painting")
    page.get_by_role("button", name="Generate").click()
    card = page.locator("#job-list .job-card").first
    expect(card).to_have_attribute("data-state", "running", timeout=20_000)

    card.get_by_role("button", name="Cancel").click()
    expect(card).to_have_attribute("data-state", "cancelled")
    expect(page.locator("#messages")).to_contain_text("Cancelled.")
    assert Job.objects.get().state == Job.State.CANCELLED


def test_find_an_image_in_the_gallery_open_the_lightbox_and_download_a_zip(
    live_server, page, owner, providers, media
):
    stored_image(owner, "a walrus on an ice floe", (200, 60, 60))
    stored_image(owner, "a walrus asleep in the sun", (60, 160, 60))
    stored_image(owner, "a city skyline", (60, 60, 200))
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/gallery/")
    expect(page.locator(".tile")).to_have_count(3)

    page.get_by_label("Search prompts").fill("walrus")
    expect(page.locator(".tile")).to_have_count(2)
    expect(page).to_have_url(re.compile(r"q=walrus"))
    page.screenshot(path=ARTIFACTS / "gallery.png", full_page=True)

    page.locator(".tile a[data-lightbox]").first.click()
    lightbox = page.locator("#lightbox")
    expect(lightbox).to_be_visible()
    expect(lightbox.locator(".lb-caption")).to_have_text("a walrus asleep in the sun")
    page.keyboard.press("ArrowRight")
    expect(lightbox.locator(".lb-caption")).to_have_text("a walrus on an ice floe")
    page.keyboard.press("ArrowLeft")
    expect(lightbox.locator(".lb-caption")).to_have_text("a walrus asleep in the sun")
    wait_until(page, "() => document.querySelector('#lightbox img').complete")
    assert page.evaluate("document.querySelector('#lightbox img').naturalWidth") == 320
    page.keyboard.press("Escape")
    expect(lightbox).to_be_hidden()

    page.get_by_label("Select all shown").check()
    expect(page.locator("[data-selected-count]")).to_have_text("2 selected")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download ZIP").click()
    archive = zipfile.ZipFile(download.value.path())
    assert sorted(n.split("-", 3)[-1] for n in archive.namelist()) == [
        "a-walrus-asleep-in-the-sun.png",
        "a-walrus-on-an-ice-floe.png",
    ]


def test_the_studio_with_cards_fits_a_phone(live_server, new_page, owner, providers, media):
    stored_image(owner, "a phone-sized picture of a heron", (90, 90, 90))
    page = new_page(viewport=PHONE)
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/")
    expect(page.locator(".job-card")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=ARTIFACTS / "studio-phone.png", full_page=True)
    page.goto(live_server.url + "/gallery/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_the_estimate_follows_images_while_it_is_typed(live_server, page, owner, providers, media):
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/")
    page.get_by_label("Provider", exact=True).select_option(label="KIE.ai")
    page.get_by_label("Resolution").select_option("2K")
    estimate = page.locator("#estimate")
    expect(estimate).to_have_text("$0.08")
    expect(page.locator("#form-options.htmx-request")).to_have_count(0)  # nothing in flight
    images = page.get_by_role("spinbutton", name="Images")
    images.click()
    images.press("Control+a")
    images.press_sequentially("3")  # still in the field: no change event yet
    expect(estimate).to_have_text("$0.24 (3 × $0.08)")
    images.press("Backspace")
    expect(estimate).to_have_text("$0.08")  # empty counts as one, as the server takes it
    images.press_sequentially("2")
    expect(estimate).to_have_text("$0.16 (2 × $0.08)")
    expect(images).to_be_focused()


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 850}, PHONE], ids=["1366", "390"])
def test_a_bad_upload_is_named_at_once_and_never_sent(
    live_server, new_page, owner, providers, media, tmp_path, viewport
):
    big = tmp_path / "harbour.png"
    big.write_bytes(png_bytes((64, 48)) + bytes(int(25.8 * 1024 * 1024)))
    text = tmp_path / "notes-from-the-client-meeting-about-the-spring-campaign-round-2.png"
    text.write_text("not a picture at all")
    good = tmp_path / "landscape.png"
    good.write_bytes(png_bytes((640, 480)))
    page = new_page(viewport=viewport)
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/")
    sent = []
    page.on("request", lambda r: r.method == "POST" and sent.append(len(r.post_data_buffer or b"")))
    field = page.locator("#id_reference_files")
    problems = page.locator(".references [role=alert]")
    tiles = page.locator("#dropzone .previews li")

    # Too big: said before anything is sent, in the server's words, beside the field.
    field.set_input_files(str(big))
    expect(problems).to_have_text(
        "harbour.png is 25.8 MB; KIE.ai and Apixo take reference images up to 10 MB. "
        "Save it as JPEG or make it smaller."
    )
    expect(tiles).to_have_count(0)
    assert field.evaluate("input => input.files.length") == 0
    assert sent == []

    # Not an image, whatever its name says: a message, no broken tile, no clipped text.
    field.set_input_files(str(text))
    expect(problems).to_have_text(f"{text.name} is not an image we can read.")
    expect(tiles).to_have_count(0)
    wait_until(page, "() => document.getElementById('id_reference_files').files.length === 0")
    assert problems.evaluate("e => e.scrollWidth <= e.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.locator(".references").screenshot(path=ARTIFACTS / f"bad-upload-{viewport['width']}.png")

    # A HEIC photo this browser cannot draw (the server converts it) is named by its kind.
    heic = tmp_path / "IMG_0001.HEIC"
    heic.write_bytes(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + bytes(64))
    field.set_input_files(str(heic))
    expect(tiles.locator(".ref-kind")).to_have_text("HEIC")
    expect(tiles.locator("img")).to_have_count(0)
    expect(problems).to_have_count(0)

    # A good one chosen beside a bad one goes; the bad one is named and stays behind.
    field.set_input_files([str(good), str(big)])
    expect(tiles).to_have_count(1)
    expect(problems).to_contain_text("harbour.png is 25.8 MB")
    page.get_by_label("Prompt", exact=True).fill("a harbour from the reference")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#job-list .job-card").first).to_contain_text("a harbour from the")
    assert len(Job.objects.get().reference_urls) == 1
    assert max(sent) < 1024 * 1024  # the 25.8 MB never left the browser


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 850}, PHONE], ids=["1366", "390"])
def test_the_job_page_offers_each_action_once_and_the_quota_line_counts_images(
    live_server, new_page, owner, providers, media, viewport
):
    Quota.objects.create(user=owner, monthly_images=2)
    image = stored_image(owner, "a heron in the reeds", (90, 140, 200))
    page = new_page(viewport=viewport)
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/")
    expect(page.locator("#quota-line")).to_contain_text("1 of 2 images")  # not "1 of 2 image"

    page.goto(live_server.url + f"/jobs/{image.job_id}/")
    expect(page.locator(".full-image img")).to_be_visible()
    for name in ("Add to collection", "Remix"):
        control = page.get_by_role("link", name=name, exact=True).or_(
            page.get_by_role("button", name=name, exact=True)
        )
        expect(control).to_have_count(1)
    expect(page.get_by_text("Remix this image")).to_have_count(0)
    expect(page.get_by_role("link", name="Remix", exact=True)).to_have_attribute(
        "href", f"/?image={image.pk}"
    )
    page.screenshot(path=ARTIFACTS / f"job-page-actions-{viewport['width']}.png", full_page=True)
