"""The Content-Security-Policy in a real browser: generating an image, watching its card,
opening it and browsing the gallery, and the team pages, without one CSP violation."""

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from tests.collections.factories import make_collection, make_image
from tests.e2e.helpers import ARTIFACTS, sign_in, stored_image, use_session
from tests.helpers import PASSWORD
from tests.links.factories import share

pytestmark = pytest.mark.django_db(transaction=True)

# Collected by the page itself (DevTools-injected, so the CSP does not stop it), for
# violations the console might word differently.
LISTEN = """window.__csp = [];
document.addEventListener('securitypolicyviolation', e =>
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI || 'inline'} ${e.sourceFile}`));"""


def watch_csp(page):
    """Console messages and events about the CSP, over every page the tab visits."""
    seen = []
    page.on("console", lambda m: "Content Security Policy" in m.text and seen.append(m.text))
    page.on("pageerror", lambda e: seen.append(f"page error: {e}"))
    page.add_init_script(LISTEN)
    return seen


def violations(page, seen):
    return seen + page.evaluate("window.__csp || []")


def test_generating_and_browsing_images_breaks_no_csp_rule(
    live_server, page, owner, providers, sandbox, cluster, media
):
    sandbox.config.duration = 2
    seen = watch_csp(page)
    sign_in(page, live_server.url)
    expect(page.get_by_role("heading", name="Studio")).to_be_visible()
    assert "default-src 'self'" in page.evaluate(
        "fetch('/').then(r => r.headers.get('content-security-policy'))"
    )

    page.get_by_label("Prompt", exact=True).fill("a lantern in the fog")
    page.get_by_role("button", name="Generate").click()
    card = page.locator("#job-list .job-card").first
    expect(card).to_have_attribute("data-state", "queued")
    expect(card.locator("progress.progress")).to_be_visible()  # drawn without inline style
    cluster().ready()
    expect(card.locator(".thumb img")).to_be_visible(timeout=30_000)
    assert violations(page, seen) == []

    card.locator(".job-prompt a").click()
    expect(page.locator("img").first).to_be_visible()
    assert violations(page, seen) == []

    stored_image(owner, "a lighthouse at dawn", (200, 120, 60))
    page.goto(live_server.url + "/gallery/")
    expect(page.locator(".tile")).to_have_count(2)
    page.get_by_label("Search prompts").fill("lighthouse")
    expect(page.locator(".tile")).to_have_count(1)
    page.get_by_label("Favourites only").check()  # a filter applies as soon as it changes
    expect(page.locator(".tile")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"favourites=on"))
    page.get_by_label("Favourites only").uncheck()
    expect(page.locator(".tile")).to_have_count(1)
    page.locator(".tile a[data-lightbox]").first.click()
    expect(page.locator("#lightbox")).to_be_visible()
    page.keyboard.press("Escape")
    page.get_by_label("Select all shown").check()
    expect(page.locator("[data-selected-count]")).to_have_text("1 selected")
    page.goto(live_server.url + "/usage/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert violations(page, seen) == []


def test_the_team_pages_work_and_break_no_csp_rule(live_server, page, owner, django_user_model):
    admin = django_user_model.objects.create_user("ada", password=PASSWORD, is_team_admin=True)
    seen = watch_csp(page)
    use_session(page, live_server, Client(), admin)

    page.goto(live_server.url + "/team/usage/")
    page.get_by_label("Month").select_option(index=1)  # changing the month shows it at once
    expect(page).to_have_url(re.compile(r"month=\d{4}-\d{2}"))

    page.goto(f"{live_server.url}/team/{owner.pk}/")
    page.get_by_role("button", name="New set-password link").click()
    link = page.get_by_label("Set-password link for olivia")
    link.click()  # selects the whole link, ready to copy
    assert page.evaluate(
        "(() => { const i = document.querySelector('input.copy');"
        " return i.selectionStart === 0 && i.selectionEnd === i.value.length; })()"
    )
    assert violations(page, seen) == []


# Where a person drags the prompt box's corner to make it taller; Chromium writes the new
# height into the textarea's style attribute, as any browser-side resize does.
RESIZE_CORNER = """() => { const r = document.getElementById('id_prompt').getBoundingClientRect();
  return [r.right - 4, r.bottom - 4]; }"""


def test_the_studio_after_a_resized_prompt_box_and_every_main_page_log_no_csp_error(
    live_server, page, owner, teammate, providers, media
):
    images = [make_image(owner, "a heron in the reeds"), make_image(owner, "a heron in flight")]
    collection = make_collection(owner, images, title="Herons")
    _, share_path = share(owner, collection=collection)
    seen = watch_csp(page)
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/")

    x, y = page.evaluate(RESIZE_CORNER)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y + 80, steps=5)
    page.mouse.up()
    assert page.evaluate("document.getElementById('id_prompt').hasAttribute('style')")
    page.screenshot(path=ARTIFACTS / "csp-studio.png")  # (Playwright also styles the fields)

    page.get_by_label("Prompt", exact=True).fill("a heron at dusk")
    page.get_by_label("Provider").select_option(label="KIE.ai")  # the options are swapped
    expect(page.get_by_label("Resolution")).to_be_visible()
    page.get_by_role("spinbutton", name="Images").fill("2")
    page.get_by_role("spinbutton", name="Images").press("Tab")
    tall = page.evaluate("document.getElementById('id_prompt').offsetHeight")
    page.get_by_role("button", name="Generate").click()  # the form is swapped
    expect(page.locator("#job-list .job-card")).to_have_count(4)
    assert violations(page, seen) == []
    # and the box keeps the height the person gave it
    assert page.evaluate("document.getElementById('id_prompt').offsetHeight") == tall

    for path in [
        "/gallery/",
        "/gallery/team/",
        "/collections/",
        f"/collections/{collection.pk}/",
        f"/jobs/{images[0].job_id}/",
        "/usage/",
        "/links/",
        f"/collections/{collection.pk}/sharing",
        "/settings/images",
        share_path,
    ]:
        assert page.goto(live_server.url + path).status == 200, path
        assert violations(page, seen) == [], path
