"""A finished picture is on its card, and on its job page, within a second of being stored:
pushed to the page the moment the job changes, not found at the next refresh (slowed to
every 10 s while the push stream is open, so it cannot be what shows it). Chromium, a live
server, a real qcluster and the sandbox, at a person's speed and at full speed."""

import pytest
from django.test import Client
from playwright.sync_api import expect

from flux2web.jobs import changes
from flux2web.jobs.actions import cancel_job
from flux2web.jobs.models import Comparison, Job
from flux2web.jobs.transitions import transition
from flux2web.studio import stream
from tests.e2e.helpers import DESKTOP, console_errors, use_session, wait_until
from tests.e2e.watching import WATCH_PICTURES
from tests.helpers import wait_for
from tests.jobs.factories import make_jobs

pytestmark = pytest.mark.django_db(transaction=True)

TAKES = 3
# From the transaction that stores the picture to the picture drawn on its card.
AT_ONCE_MS = 1000


@pytest.fixture(autouse=True)
def streams_notice_a_closed_page_soon(monkeypatch):
    # Each stream writes often, so once the browser is gone it ends with the test.
    monkeypatch.setattr(stream, "HEARTBEAT_SECONDS", 0.5)


def test_a_finished_picture_is_on_its_card_within_a_second(
    live_server, paced_browser, owner, providers, sandbox, cluster
):
    sandbox.config.duration = 1.0
    context = paced_browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors = console_errors(page)
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/")
    page.evaluate(WATCH_PICTURES)
    cluster().ready()

    prompt = page.get_by_label("Prompt", exact=True)
    for take in range(TAKES):
        prompt.fill(f"a paper boat on a puddle, take {take}")
        prompt.press("Control+Enter")
        card = page.locator("#job-list .job-card", has_text=f"take {take}")
        expect(card).to_have_count(1)
        expect(card.locator(".thumb img")).to_be_visible(timeout=30_000)

    stored = {
        str(pk): finished.timestamp() * 1000
        for pk, finished in Job.objects.filter(owner=owner).values_list("pk", "finished_at")
    }
    wait_until(page, f"() => Object.keys(window.__shown).length >= {TAKES}")
    shown = page.evaluate("() => window.__shown")
    late = {pk: round(shown[pk] - stored[pk]) for pk in stored}
    assert len(late) == TAKES
    assert all(ms < AT_ONCE_MS for ms in late.values()), late
    assert errors == []
    context.close()
    # The page is gone: its stream's next heartbeat finds it so and lets the thread go.
    wait_for(lambda: not changes._registry.snapshot(), timeout=5, message="streams to end")


# When the job page's first picture is drawn (ms since the epoch).
WATCH_JOB_PAGE = """() => {
  window.__drawn = null;
  const look = () => {
    const img = document.querySelector('#job-detail[data-state="succeeded"] .full-image img');
    if (!img || window.__drawn) return;
    const drawn = () => { window.__drawn = window.__drawn || Date.now(); };
    if (img.complete && img.naturalWidth) drawn();
    else img.addEventListener('load', drawn, {once: true});
  };
  new MutationObserver(look).observe(document.querySelector('main'),
    {subtree: true, childList: true, attributes: true});
}"""


def test_the_job_page_shows_its_picture_within_a_second(
    live_server, paced_browser, owner, providers, sandbox, cluster
):
    sandbox.config.duration = 2.0
    context = paced_browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors = console_errors(page)
    use_session(page, live_server, Client(), owner)
    cluster().ready()
    late = []
    for take in range(2):
        job = make_jobs(owner, prompt=f"a kite over the dunes, take {take}")[0]
        page.goto(f"{live_server.url}/jobs/{job.pk}/")
        page.evaluate(WATCH_JOB_PAGE)
        expect(page.locator("#job-detail")).to_have_attribute(
            "data-state", "succeeded", timeout=30_000
        )
        wait_until(page, "() => window.__drawn !== null")
        drawn = page.evaluate("() => window.__drawn")
        job.refresh_from_db()
        late.append(round(drawn - job.finished_at.timestamp() * 1000))
    assert all(ms < AT_ONCE_MS for ms in late), late
    assert errors == []
    context.close()
    wait_for(lambda: not changes._registry.snapshot(), timeout=5, message="streams to end")


def test_without_the_stream_the_two_second_refresh_still_shows_the_picture(
    live_server, page, owner, providers, sandbox, cluster
):
    sandbox.config.duration = 1.0
    page.route("**/updates/stream*", lambda route: route.abort())  # a proxy that refuses it
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/")
    page.evaluate(WATCH_PICTURES)
    cluster().ready()
    prompt = page.get_by_label("Prompt", exact=True)
    prompt.fill("a paper boat on a puddle, no stream")
    prompt.press("Control+Enter")
    card = page.locator("#job-list .job-card", has_text="no stream")
    expect(card.locator(".thumb img")).to_be_visible(timeout=30_000)
    wait_until(page, "() => Object.keys(window.__shown).length === 1")
    shown = page.evaluate("() => window.__shown")
    job = Job.objects.get(owner=owner)
    late = shown[str(job.pk)] - job.finished_at.timestamp() * 1000
    assert late < 2000 + AT_ONCE_MS, late  # the next tick, as before push


@pytest.mark.parametrize("where", ["studio", "job page"])
def test_a_refused_stream_has_the_page_ask_for_its_cards_at_once(
    live_server, page, owner, providers, where
):
    # The stream is refused (204) when nothing it names is in flight any more, as for a job
    # that ended before its stream opened, or when the server has no thread to spare: what
    # it would have told may have happened already. The page asks for its cards at once,
    # not at its refresh 2 s after loading (so more than 2 s after the address is opened).
    (job,) = make_jobs(owner, prompt="a kite over the dunes")  # queued; no worker runs
    refused = []
    page.route("**/updates/stream*", lambda route: (refused.append(1), route.fulfill(status=204)))
    use_session(page, live_server, Client(), owner)
    address = "/" if where == "studio" else f"/jobs/{job.pk}/"
    asked = "/updates?cards=" if where == "studio" else f"/jobs/{job.pk}/"
    with page.expect_request(
        lambda request: asked in request.url and request.headers.get("hx-request"), timeout=2000
    ):
        page.goto(live_server.url + address)
    assert refused


# Counts what each page's event streams told it, before the page's own code hears it.
COUNT_TOLD = """() => {
  window.__told = 0;
  const Original = window.EventSource;
  window.EventSource = function (url, options) {
    const source = new Original(url, options);
    source.addEventListener('message', () => { window.__told += 1; });
    return source;
  };
  window.EventSource.prototype = Original.prototype;
  Object.assign(window.EventSource, {CONNECTING: 0, OPEN: 1, CLOSED: 2});
}"""


@pytest.mark.parametrize("where", ["studio", "job page"])
def test_a_change_told_while_the_cards_are_being_fetched_is_fetched_too(
    live_server, page, owner, providers, where
):
    # The stream says "changed" while the page is still fetching its cards for the previous
    # change, and that fetch's answer replaces the element that fetches (its cards changed):
    # the second change must still be fetched at once, not at the next refresh (every 10 s
    # while the stream is open).
    (job,) = make_jobs(owner, prompt="a heron at dawn")  # queued; no worker runs
    asked = "/updates?cards=" if where == "studio" else f"/jobs/{job.pk}/"
    held = []
    holding = {"on": False}

    def cards(route):
        if holding["on"] and route.request.headers.get("hx-request"):
            held.append((route, route.fetch()))  # answered by the server now, shown later
        else:
            route.continue_()

    page.route(f"**{asked}*", cards)
    page.add_init_script(f"({COUNT_TOLD})()")
    use_session(page, live_server, Client(), owner)
    address = "/" if where == "studio" else f"/jobs/{job.pk}/"
    with page.expect_response(lambda r: asked in r.url and r.request.headers.get("hx-request")):
        page.goto(live_server.url + address)  # the stream opens and the cards are asked for

    holding["on"] = True
    S = Job.State
    transition(job.pk, from_states=[S.QUEUED], to=S.SUBMITTING)
    wait_until(page, "() => window.__told >= 1")
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(20)
    assert len(held) == 1, "the first change's cards were not asked for"
    transition(job.pk, from_states=[S.SUBMITTING], to=S.RUNNING, provider_task_id="t-1")
    wait_until(page, "() => window.__told >= 2")  # told while the first fetch is held
    holding["on"] = False
    route, answer = held[0]
    with page.expect_request(
        lambda r: asked in r.url and r.headers.get("hx-request"), timeout=1000
    ):
        route.fulfill(response=answer)
    selector = "#job-list .job-card" if where == "studio" else "#job-detail"
    expect(page.locator(selector)).to_have_attribute("data-state", "running", timeout=1000)


def test_an_action_answered_after_the_stream_told_of_its_change_still_says_what_it_did(
    live_server, page, owner, providers
):
    # Cancel is pressed, and the stream tells the page the job changed before the press's
    # own answer arrives. Had the page drawn the cards again meanwhile, htmx would drop that
    # answer (its message too), as the form that asked would be gone from the page.
    (job,) = make_jobs(owner, prompt="a heron at dawn")  # queued; no worker runs
    held = []

    def cancel(route):
        held.append((route, route.fetch()))  # the job is cancelled now; answered later

    page.route(f"**/jobs/{job.pk}/cancel", cancel)
    page.add_init_script(f"({COUNT_TOLD})()")
    use_session(page, live_server, Client(), owner)
    with page.expect_response(lambda r: "/updates?" in r.url):
        page.goto(live_server.url + "/")  # the stream opens and the cards are asked for
    card = page.locator("#job-list .job-card")
    card.get_by_role("button", name="Cancel").click()
    wait_for(lambda: held or page.wait_for_timeout(20), timeout=10)
    wait_until(page, "() => window.__told >= 1")  # told before the answer came
    page.wait_for_timeout(300)  # time enough for the cards to be fetched and drawn
    assert len(held) == 1
    route, answer = held[0]
    route.fulfill(response=answer)

    expect(page.locator("#messages")).to_contain_text("Cancelled before anything was sent")
    expect(card).to_have_attribute("data-state", "cancelled")
    expect(card.get_by_role("button", name="Cancel")).to_have_count(0)


def test_a_change_whose_fetch_failed_is_shown_at_the_next_two_second_refresh(
    live_server, page, owner, providers
):
    # The stream told the page a job changed, and the fetch of its cards failed (a dropped
    # connection): the page does not wait for its slow refresh (every 10 s while the
    # stream is open) to show the change, but refreshes at its full pace meanwhile.
    (job,) = make_jobs(owner, prompt="a heron at dawn")  # queued; no worker runs
    failing = {"on": False, "failed": 0}

    def cards(route):
        if failing["on"] and route.request.headers.get("hx-request") and not failing["failed"]:
            failing["failed"] += 1
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/updates?cards=*", cards)
    use_session(page, live_server, Client(), owner)
    with page.expect_response(lambda r: "/updates?" in r.url):
        page.goto(live_server.url + "/")  # the stream opens and the cards are asked for

    failing["on"] = True
    S = Job.State
    transition(job.pk, from_states=[S.QUEUED], to=S.SUBMITTING)
    transition(job.pk, from_states=[S.SUBMITTING], to=S.RUNNING, provider_task_id="t-1")
    card = page.locator("#job-list .job-card")
    expect(card).to_have_attribute("data-state", "running", timeout=3500)
    assert failing["failed"] == 1


def test_rerun_from_a_card_puts_the_new_jobs_card_on_the_page_and_it_follows_the_job(
    live_server, page, owner, providers
):
    (job,) = make_jobs(owner, prompt="a heron at dawn", seed=7)
    cancel_job(job_id=job.pk)
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/")
    cards = page.locator("#job-list .job-card")
    expect(cards).to_have_count(1)

    cards.get_by_role("button", name="Rerun same seed").click()
    expect(page.locator("#messages")).to_contain_text("Queued again with the same seed.")
    expect(cards).to_have_count(2)
    again = Job.objects.exclude(pk=job.pk).get()
    new_card = page.locator(f"#job-{again.pk}")
    expect(new_card).to_have_attribute("data-state", "queued")

    # The new card is followed like any other: a change to its job is drawn on it.
    S = Job.State
    transition(again.pk, from_states=[S.QUEUED], to=S.SUBMITTING)
    transition(again.pk, from_states=[S.SUBMITTING], to=S.RUNNING, provider_task_id="t-1")
    expect(new_card).to_have_attribute("data-state", "running")
    expect(cards).to_have_count(2)


def test_two_cards_acted_on_at_once_both_get_their_answers(live_server, page, owner, providers):
    first, second = make_jobs(owner, prompt="a heron at dawn", count=2)  # queued
    held = []

    def cancel(route):
        held.append((route, route.fetch()))  # answered once the other card has its answer

    page.route(f"**/jobs/{first.pk}/cancel", cancel)
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/")
    page.locator(f"#job-{first.pk}").get_by_role("button", name="Cancel").click()
    wait_for(lambda: held or page.wait_for_timeout(20), timeout=10)
    page.locator(f"#job-{second.pk}").get_by_role("button", name="☆ Favourite").click()
    expect(
        page.locator(f"#job-{second.pk}").get_by_role("button", name="★ Favourite")
    ).to_be_visible()
    assert len(held) == 1
    route, answer = held[0]
    route.fulfill(response=answer)

    expect(page.locator("#messages")).to_contain_text("Cancelled before anything was sent")
    expect(page.locator(f"#job-{first.pk}")).to_have_attribute("data-state", "cancelled")
    expect(
        page.locator(f"#job-{second.pk}").get_by_role("button", name="★ Favourite")
    ).to_be_visible()
    assert Job.objects.get(pk=second.pk).favourite


def test_a_cards_buttons_wait_while_one_of_its_actions_does(live_server, page, owner, providers):
    # Favourite, then Rerun on the same card before Favourite is answered: the answer
    # redraws the card, and the Rerun sent from the old one lost its answer (its message and
    # the new job's card). The card's buttons wait for the answer instead, then work.
    (job,) = make_jobs(owner, prompt="a heron at dawn", seed=7)
    cancel_job(job_id=job.pk)
    held = []
    page.route(f"**/jobs/{job.pk}/favourite", lambda route: held.append(route))
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/")
    card = page.locator(f"#job-{job.pk}")
    card.get_by_role("button", name="☆ Favourite").click()
    wait_for(lambda: held or page.wait_for_timeout(20), timeout=10)
    rerun = card.get_by_role("button", name="Rerun same seed")
    expect(rerun).to_be_disabled()
    rerun.click(force=True)  # a press while it waits does nothing
    page.wait_for_timeout(200)
    assert Job.objects.count() == 1
    held[0].continue_()
    expect(card.get_by_role("button", name="★ Favourite")).to_be_visible()
    expect(rerun).to_be_enabled()
    rerun.click()
    expect(page.locator("#messages")).to_contain_text("Queued again with the same seed.")
    expect(page.locator("#job-list .job-card")).to_have_count(2)
    assert Job.objects.get(pk=job.pk).favourite


def test_a_comparisons_buttons_come_back_after_one_cards_action_or_a_failed_one(
    live_server, page, owner, providers
):
    # A comparison's cards wait together (its Keep redraws them all), and all come back when
    # the answer redraws only the card that asked, or when the answer failed.
    jobs = make_jobs(owner, prompt="a heron at dawn", seed=7, count=2)
    Job.objects.filter(pk__in=[j.pk for j in jobs]).update(
        comparison=Comparison.objects.create(owner=owner)
    )
    for job in jobs:
        cancel_job(job_id=job.pk)
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/")
    first, second = (page.locator(f"#job-{job.pk}") for job in jobs)
    first.get_by_role("button", name="☆ Favourite").click()
    expect(first.get_by_role("button", name="★ Favourite")).to_be_visible()
    expect(second.get_by_role("button", name="Rerun same seed")).to_be_enabled()
    page.route(f"**/jobs/{jobs[1].pk}/favourite", lambda route: route.fulfill(status=500))
    second.get_by_role("button", name="☆ Favourite").click()
    expect(first.get_by_role("button", name="Rerun same seed")).to_be_enabled()
    expect(second.get_by_role("button", name="☆ Favourite")).to_be_enabled()


def test_a_cards_buttons_come_back_after_an_answer_that_could_not_be_swapped(
    live_server, page, owner, providers
):
    # An answer htmx fails to put on the page (here it names a place that cannot be found)
    # ends without its htmx:afterRequest: the card's buttons still come back.
    (job,) = make_jobs(owner, prompt="a heron at dawn", seed=7)
    cancel_job(job_id=job.pk)
    page.route(
        f"**/jobs/{job.pk}/favourite",
        lambda route: route.fulfill(status=200, headers={"HX-Retarget": "#("}, body="<p>no</p>"),
    )
    use_session(page, live_server, Client(), owner)
    page.goto(live_server.url + "/")
    card = page.locator(f"#job-{job.pk}")
    card.get_by_role("button", name="☆ Favourite").click()
    rerun = card.get_by_role("button", name="Rerun same seed")
    expect(rerun).to_be_enabled()
    rerun.click()
    expect(page.locator("#messages")).to_contain_text("Queued again with the same seed.")
    expect(page.locator("#job-list .job-card")).to_have_count(2)
