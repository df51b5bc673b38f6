"""Compare providers in Chromium against a live server, a real qcluster and the sandbox: a
person sends one prompt to four providers, sees each one's picture, time and cost on one
card, and keeps the best; with and without JavaScript, on a desktop and on a phone."""

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from flux2web.jobs.models import Comparison, Job
from tests.e2e.helpers import ARTIFACTS, DESKTOP, PHONE, console_errors, use_session

pytestmark = pytest.mark.django_db(transaction=True)

FOUR = ("LiangXin", "KIE.ai", "Apixo", "APIMart")
PROMPT = "a red fox asleep in fresh snow, morning light"


def column(page, name):
    """One provider's column of the comparison card."""
    card = page.locator("section.comparison")
    return card.locator(".job-card", has=page.get_by_role("heading", name=re.compile(name)))


def choose_four(page, *, javascript=True):
    page.get_by_label("Prompt", exact=True).fill(PROMPT)
    page.locator("#compare-providers summary").click()
    for name in FOUR:
        page.get_by_label(name, exact=True).check()
        if javascript:  # each tick asks for the list again, with the total
            expect(page.locator("#compare-providers")).to_have_attribute("open", "")
    for name in FOUR:
        expect(page.get_by_label(name, exact=True)).to_be_checked()


def test_a_person_compares_four_providers_and_keeps_the_best(
    live_server, paced_browser, owner, providers, sandbox, cluster
):
    sandbox.config.duration = 1
    context = paced_browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors = console_errors(page)
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/")

    choose_four(page)
    # The price of all of it before anything is spent.
    total = sum(providers[n].price_for("pro", None) for n in FOUR)
    expect(page.locator("#compare-total")).to_contain_text(
        f"4 providers, one image each: ${total:,.2f} in all"
    )
    assert not Job.objects.exists()
    page.get_by_role("button", name="Compare 4 providers").click()

    card = page.locator("section.comparison")
    expect(card.locator(".job-card")).to_have_count(4)
    expect(card).to_contain_text("Comparing 4 providers")
    # Providers call back as they would a site on the internet (Apixo's first poll would
    # come only 15 s after the create).
    cluster(FLUX2WEB_PUBLIC_URL=live_server.url).ready()
    expect(card.locator(".job-card .thumb img")).to_have_count(4, timeout=40_000)
    for name in FOUR:
        cell = column(page, name)
        expect(cell.locator(".badge")).to_have_text("Done")
        price = providers[name].price_for("pro", None)
        expect(cell.locator(".compared-facts")).to_contain_text(f"Cost${price:,.2f}")
        expect(cell.locator(".compared-facts")).to_contain_text(re.compile(r"stored\d+\.\d s"))
    assert Comparison.objects.get().jobs.count() == 4
    card.screenshot(path=ARTIFACTS / "comparison-card.png")

    # The pictures side by side at one zoom, on the compare page.
    card.get_by_role("link", name="Compare the images").click()
    expect(page).to_have_url(re.compile(r"/compare\?image=\d+(&image=\d+){3}$"))
    expect(page.locator(".compare-pane")).to_have_count(4)
    page.go_back()
    expect(page.locator("section.comparison .job-card .thumb img")).to_have_count(4)

    column(page, "Apixo").get_by_role("button", name="Keep Apixo's image", exact=True).click()
    expect(column(page, "Apixo")).to_contain_text("★ Kept")
    expect(page.locator("section.comparison .job-card")).to_have_count(4)  # the others stay
    assert Comparison.objects.get().kept.requested_provider.name == "Apixo"

    page.once("dialog", lambda dialog: dialog.accept())
    column(page, "Apixo").get_by_role(
        "button", name="Keep Apixo's image, delete the others"
    ).click()
    expect(page.locator("section.comparison .job-card")).to_have_count(1)
    expect(column(page, "Apixo")).to_contain_text("★ Kept")
    assert Job.objects.visible().count() == 1

    page.goto(live_server.url + "/gallery/")
    expect(page.locator("[data-image-id]")).to_have_count(1)
    assert not errors, errors
    context.close()


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
def test_compare_on_a_phone(live_server, browser, owner, providers, sandbox, cluster, javascript):
    sandbox.config.duration = 1
    context = browser.new_context(viewport=PHONE, java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(15_000)
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/")
    choose_four(page, javascript=javascript)
    name = "Compare 4 providers" if javascript else "Compare providers"
    page.get_by_role("button", name=name, exact=True).click()
    if not javascript:  # the total is shown before anything is spent, then sent
        total = sum(providers[n].price_for("pro", None) for n in FOUR)
        expect(page.get_by_text("Nothing is spent yet")).to_be_visible()
        expect(page.locator("#compare-total")).to_contain_text(f"${total:,.2f} in all")
        assert not Job.objects.exists()
        page.get_by_role("button", name="Compare 4 providers", exact=True).click()
        expect(page.get_by_text("Comparing 4 providers.")).to_be_visible()
    expect(page.locator("section.comparison .job-card")).to_have_count(4)

    cluster(FLUX2WEB_PUBLIC_URL=live_server.url).ready()
    images = page.locator("section.comparison .job-card .thumb img")
    if javascript:
        expect(images).to_have_count(4, timeout=40_000)
    else:  # the page reloads itself while jobs are in flight; here it is asked again
        for _ in range(80):
            if images.count() == 4:
                break
            page.wait_for_timeout(500)
            page.reload()
        expect(images).to_have_count(4)

    # A column per provider, stacked on a phone, nothing wider than the screen.
    lefts = {round(box["x"]) for box in (c.bounding_box() for c in images.all())}
    assert len(lefts) == 1, lefts
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=ARTIFACTS / f"comparison-phone-{javascript}.png", full_page=True)

    column(page, "KIE.ai").get_by_role("button", name="Keep KIE.ai's image", exact=True).click()
    expect(column(page, "KIE.ai")).to_contain_text("★ Kept")
    expect(page.locator("section.comparison .job-card")).to_have_count(4)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_enter_in_a_field_generates_and_never_compares(
    live_server, browser, owner, providers, javascript
):
    """Enter in a field is the form's default button: Generate, one image, never the
    comparison of every ticked provider (which spends several times as much)."""
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(15_000)
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/")
    page.get_by_label("Prompt", exact=True).fill("Just one normal image please")
    page.locator("#compare-providers summary").click()
    for name in ("Apixo", "APIMart"):
        if javascript:  # each tick draws the list again; pressed once each is in
            with page.expect_response(lambda response: "/generate/options" in response.url):
                page.get_by_label(name, exact=True).check()
            expect(page.locator("#compare-providers")).to_have_attribute("open", "")
        else:
            page.get_by_label(name, exact=True).check()
    page.get_by_label("Images", exact=True).fill("1")
    # Once the list drawn again for the ticks is in and settled (as test_no_lost_input
    # types); Enter while it is still in flight is the next test's.
    expect(page.locator("#form-options.htmx-request, #form-options.htmx-settling")).to_have_count(0)
    page.get_by_label("Images", exact=True).press("Enter")
    expect(page.locator(".job-card")).to_have_count(1, timeout=15_000)
    page.wait_for_timeout(500)
    assert Job.objects.count() == 1
    assert not Comparison.objects.exists()
    context.close()


def test_enter_while_the_list_is_being_drawn_again_still_generates(
    live_server, browser, owner, providers
):
    """At full speed: Enter pressed while the list drawn again for a tick is still on its
    way (held here until after the press) makes the one image, not a comparison, and the
    list's late answer changes nothing."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(15_000)
    use_session(page, live_server, Client(), owner)
    held = []
    page.route("**/generate/options", lambda route: held.append(route))
    page.goto(live_server.url + "/")
    page.get_by_label("Prompt", exact=True).fill("Just one normal image please")
    page.locator("#compare-providers summary").click()
    page.get_by_label("Apixo", exact=True).check()
    page.get_by_label("APIMart", exact=True).check()
    expect(page.locator("#form-options.htmx-request")).to_have_count(1)
    page.get_by_label("Images", exact=True).press("Enter")
    expect(page.locator(".job-card")).to_have_count(1)
    for route in held:
        route.continue_()
    page.unroute("**/generate/options")
    page.wait_for_timeout(500)
    expect(page.locator(".job-card")).to_have_count(1)
    assert Job.objects.count() == 1
    assert not Comparison.objects.exists()
    context.close()


def test_the_compare_list_stays_open_as_it_is_drawn_again(live_server, page, owner, providers):
    from datetime import timedelta

    from django.utils import timezone

    providers["Apixo"].cooldown_until = timezone.now() + timedelta(minutes=5)
    providers["Apixo"].save()
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/")
    listing = page.locator("#compare-providers")
    page.locator("#compare-providers summary").click()
    # Another option changed: the list is drawn again, still open.
    page.get_by_label("Aspect ratio").select_option("16:9")
    expect(page.locator("#compare-total")).to_be_visible()
    page.wait_for_timeout(600)
    expect(listing).to_have_attribute("open", "")
    # A provider that cannot take it ticked: open, and the next tick works.
    page.get_by_label("Apixo", exact=True).check()
    expect(listing).to_contain_text("Apixo is paused")
    expect(listing).to_have_attribute("open", "")
    page.get_by_label("KIE.ai", exact=True).check()
    expect(page.get_by_label("KIE.ai", exact=True)).to_be_checked()


def test_a_waiting_comparison_fits_a_phone(live_server, browser, owner, providers):
    """At 390 px each column's head (state, provider, elapsed time) is inside its card."""
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/")
    choose_four(page)
    page.get_by_role("button", name="Compare 4 providers").click()
    expect(page.locator("section.comparison .job-card")).to_have_count(4)
    Job.objects.update(created_at=Job.objects.first().created_at.replace(year=2000))
    page.goto(live_server.url + f"/comparisons/{Comparison.objects.get().pk}/")
    for card in page.locator("section.comparison .job-card").all():
        box, elapsed = card.bounding_box(), card.locator(".elapsed").bounding_box()
        assert elapsed["x"] + elapsed["width"] <= box["x"] + box["width"] + 0.5, (box, elapsed)
    expect(page.locator("section.comparison .job-meta").first).to_contain_text("LiangXin")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=ARTIFACTS / "comparison-waiting-phone.png", full_page=True)
    context.close()
