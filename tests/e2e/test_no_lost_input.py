"""Races, in a real browser: an answer that lands after the person went on
typing or clicking never undoes what they did, and one press of Generate is one job.

The answers are held back (Playwright keeps the request until the test lets it go), so
"the answer lands after the next keystroke" happens every run, not by luck. Each race is
run at full speed (no pause between actions) and at a person's speed (a pause)."""

import re
import time

import pytest
from playwright.sync_api import expect

from flux2web.jobs.models import Job
from tests.e2e.helpers import PHONE, console_errors, open_studio, png_bytes, wait_until
from tests.helpers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


class Held:
    """Requests to one path, kept until released, so the answer lands when the test says."""

    def __init__(self, page, pattern):
        self.page, self.routes = page, []
        page.route(pattern, lambda route: self.routes.append(route))

    def wait(self, n=1):
        deadline = time.monotonic() + 10
        while len(self.routes) < n and time.monotonic() < deadline:
            self.page.wait_for_timeout(20)  # the sync API handles routes while called
        assert len(self.routes) >= n, f"expected {n} held requests, got {len(self.routes)}"

    def release_all(self):
        routes, self.routes = self.routes, []
        for route in routes:
            route.continue_()
        return len(routes)


def hold(page, pattern):
    return Held(page, pattern)


@pytest.mark.parametrize("pause_ms", [0, 300], ids=["full-speed", "user-speed"])
def test_ticking_upsampling_right_after_typing_a_seed_keeps_it_ticked(
    live_server, page, owner, providers, media, pause_ms
):
    errors = console_errors(page)
    open_studio(page, live_server, owner)
    page.get_by_label("Provider").select_option(label="LiangXin")  # takes seed and upsampling
    expect(page.get_by_role("spinbutton", name="Seed")).to_be_visible()
    held = hold(page, "**/generate/options")

    page.get_by_role("spinbutton", name="Seed").fill("4242")
    page.wait_for_timeout(pause_ms)
    page.get_by_label("Prompt upsampling").check()  # the seed's change fires on this click
    held.wait(1)
    page.wait_for_timeout(pause_ms)
    held.release_all()
    page.wait_for_timeout(400)
    held.release_all()  # any refresh the tick itself started
    page.wait_for_timeout(400)

    expect(page.get_by_label("Prompt upsampling")).to_be_checked()
    expect(page.get_by_role("spinbutton", name="Seed")).to_have_value("4242")
    page.unroute("**/generate/options")

    page.get_by_label("Prompt", exact=True).fill("a heron at dawn, upsampled")
    page.get_by_role("button", name="Generate").click()
    job = wait_for(lambda: Job.objects.filter(owner=owner).first(), message="a job")
    assert job.prompt_upsampling is True and job.seed == 4242
    assert errors == []


@pytest.mark.parametrize("pause_ms", [0, 300], ids=["full-speed", "user-speed"])
def test_a_count_typed_while_options_refresh_is_kept(
    live_server, page, owner, providers, media, pause_ms
):
    open_studio(page, live_server, owner)
    held = hold(page, "**/generate/options")
    page.get_by_label("Aspect ratio").select_option("16:9")
    held.wait(1)
    page.wait_for_timeout(pause_ms)
    page.get_by_role("spinbutton", name="Images").fill("3")  # typed, no change event yet
    held.release_all()
    page.wait_for_timeout(500)
    expect(page.get_by_role("spinbutton", name="Images")).to_have_value("3")
    expect(page.get_by_label("Aspect ratio")).to_have_value("16:9")


@pytest.mark.parametrize("pause_ms", [0, 300], ids=["full-speed", "user-speed"])
def test_typing_the_next_prompt_while_generate_is_answered_keeps_it_and_queues_one_job(
    live_server, page, owner, providers, media, pause_ms
):
    open_studio(page, live_server, owner)
    prompt = page.get_by_label("Prompt", exact=True)
    prompt.fill("the first idea: a red kite over dunes")
    held = hold(page, "**/generate")
    page.get_by_role("button", name="Generate").click()
    held.wait(1)
    # Pressing again while the first is in flight sends nothing more.
    prompt.press("Control+Enter")
    page.wait_for_timeout(pause_ms)
    prompt.fill("the second idea: a blue kite over snow")
    page.wait_for_timeout(pause_ms)
    page.wait_for_timeout(100)
    assert held.release_all() == 1
    page.unroute("**/generate")
    expect(page.locator("#job-list .job-card")).to_have_count(1)
    page.wait_for_timeout(300)
    expect(prompt).to_have_value("the second idea: a blue kite over snow")
    assert list(Job.objects.values_list("prompt", flat=True)) == [
        "the first idea: a red kite over dunes"
    ]

    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#job-list .job-card")).to_have_count(2)
    assert sorted(Job.objects.values_list("prompt", flat=True)) == [
        "the first idea: a red kite over dunes",
        "the second idea: a blue kite over snow",
    ]


def test_an_uploaded_reference_does_not_stay_on_the_next_job(
    live_server, page, owner, providers, media, tmp_path
):
    open_studio(page, live_server, owner)
    ref = tmp_path / "ref.png"
    ref.write_bytes(png_bytes((64, 64)))
    page.locator("#id_reference_files").set_input_files(str(ref))
    expect(page.locator(".previews li")).to_have_count(1)
    page.get_by_label("Prompt", exact=True).fill("a fox in the style of the reference")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#job-list .job-card")).to_have_count(1)

    expect(page.locator(".previews li")).to_have_count(0)
    wait_until(page, "() => document.getElementById('id_reference_files').files.length === 0")
    expect(page.locator("#compose")).to_contain_text("references were cleared")

    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#job-list .job-card")).to_have_count(2)
    first, second = Job.objects.order_by("pk")
    assert len(first.reference_urls) == 1 and second.reference_urls == []


@pytest.mark.parametrize(
    "viewport", [{"width": 1366, "height": 850}, PHONE], ids=["desktop", "phone"]
)
def test_quick_presses_of_generate_make_one_job_and_a_later_press_another(
    live_server, new_page, owner, providers, media, viewport
):
    page = new_page(viewport=viewport)
    open_studio(page, live_server, owner)
    page.get_by_label("Prompt", exact=True).fill("a kite over the dunes")
    button = page.locator("#compose .generate-bar button[type=submit]")
    box = button.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    cards = page.locator("#job-list .job-card")

    held = hold(page, "**/generate")
    button.click()
    held.wait(1)
    expect(button).to_have_text("Sending…")
    held.release_all()
    page.unroute("**/generate")
    expect(cards).to_have_count(1)
    # The first answer is in; two more presses on the same spot, 250 ms apart, as a
    # person's double and triple click lands on whatever button is there by then.
    on_button = "([x, y]) => !!document.elementFromPoint(x, y).closest('.generate-bar button')"
    assert page.evaluate(on_button, [x, y])
    page.mouse.click(x, y)
    page.wait_for_timeout(250)
    page.mouse.click(x, y)
    expect(button).to_have_text("Generate", timeout=3000)  # ready again, a moment later
    expect(cards).to_have_count(1)
    assert Job.objects.count() == 1

    button.click()  # a deliberate press, seconds after the card appeared
    expect(cards).to_have_count(2)
    assert Job.objects.count() == 2


@pytest.mark.parametrize(
    "viewport", [{"width": 1366, "height": 850}, PHONE], ids=["desktop", "phone"]
)
def test_back_from_a_job_in_flight_keeps_everything_typed(
    live_server, new_page, owner, providers, media, viewport
):
    page = new_page(viewport=viewport)
    open_studio(page, live_server, owner)
    page.get_by_label("Provider").select_option(label="KIE.ai")
    expect(page.get_by_label("Resolution")).to_be_visible()
    page.get_by_label("Prompt", exact=True).fill("a lighthouse at golden hour, cinematic")
    page.get_by_label("Aspect ratio").select_option("16:9")
    page.get_by_label("Resolution").select_option("2K")
    # Typed once the options are back: an answer landing mid-typing in a number field
    # puts the caret before the old value (htmx restores no caret in number fields).
    expect(page.locator("#form-options.htmx-request")).to_have_count(0)
    page.get_by_role("spinbutton", name="Images").fill("2")
    page.get_by_role("button", name="Generate").click()
    cards = page.locator("#job-list .job-card")
    expect(cards).to_have_count(2)
    expect(cards.first).to_have_attribute("data-state", "queued")  # no worker: in flight

    cards.first.get_by_role("link", name="Open").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    page.go_back()

    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_label("Prompt", exact=True)).to_have_value(
        "a lighthouse at golden hour, cinematic"
    )
    expect(page.get_by_label("Provider")).to_have_value(str(providers["KIE.ai"].pk))
    expect(page.get_by_label("Aspect ratio")).to_have_value("16:9")
    expect(page.get_by_label("Resolution")).to_have_value("2K")
    expect(page.get_by_role("spinbutton", name="Images")).to_have_value("2")
    expect(page.locator("#estimate")).to_have_text("$0.16 (2 × $0.08)")
    expect(page.locator("#prompt-counter")).to_have_text("38 / 5000")
