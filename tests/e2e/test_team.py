"""An admin adds a provider key, sets a member's monthly limit and watches spending; the
member is stopped at the limit. Debian's Chromium, a live server, a qcluster, the sandbox."""

import itertools
import re
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from flux2web.billing.models import LedgerEntry
from flux2web.jobs import services
from flux2web.jobs.models import Job
from tests.e2e.helpers import ARTIFACTS, PHONE, use_session
from tests.jobs.factories import make_jobs

pytestmark = pytest.mark.django_db(transaction=True)
S = Job.State
DESKTOP_1366 = {"width": 1366, "height": 850}


def test_an_admin_sets_up_a_provider_and_a_limit_and_watches_spending(
    live_server, new_page, owner, django_user_model, sandbox, cluster, media
):
    admin = django_user_model.objects.create_user("ada", is_team_admin=True)
    page = new_page()
    use_session(page, live_server, Client(), admin)

    page.goto(live_server.url + "/providers/")
    page.get_by_role("link", name="Add a provider").click()
    page.get_by_label("Name").fill("Our KIE account")
    page.get_by_label("API dialect").select_option("kie")
    page.get_by_label("Base URL").fill(sandbox.base_url("kie"))
    page.get_by_label("API key").fill("sandbox-key")
    page.get_by_role("button", name="Add provider").click()
    expect(page.locator("#messages")).to_contain_text("Added Our KIE account")
    expect(page.get_by_label("API key")).to_have_value("")  # write-only
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#messages")).to_contain_text("accepted the key")

    page.goto(live_server.url + "/team/")
    page.get_by_role("link", name="olivia").click()
    page.get_by_label("Money per month (USD)").fill("0.05")
    page.get_by_role("button", name="Save own limits").click()
    expect(page.locator("#messages")).to_contain_text("Saved olivia's own limits.")

    member = new_page()
    use_session(member, live_server, Client(), owner)
    member.goto(live_server.url + "/")
    expect(member.locator("#quota-line")).to_contain_text("$0.00 of $0.05 ($0.05 left)")
    cluster()
    member.get_by_label("Prompt", exact=True).fill("a paid-for picture of a kingfisher")
    member.get_by_role("button", name="Generate").click()
    card = member.locator("#job-list .job-card").first
    expect(card.locator(".thumb img")).to_be_visible(timeout=30_000)
    expect(member.locator("#quota-line")).to_contain_text("($0.00 left)")

    member.get_by_role("button", name="Generate").click()
    expect(member.locator(".field-error")).to_contain_text(
        re.compile(r"this would cost \$0\.05 and you have \$0\.00 left of \$0\.05")
    )
    assert Job.objects.count() == 1

    page.goto(live_server.url + "/team/usage/")
    expect(page.get_by_role("heading", name=re.compile("Spending in"))).to_be_visible()
    per_person = page.locator("table").filter(has_text="Person")
    expect(per_person).to_contain_text("olivia")
    expect(per_person).to_contain_text("$0.05")
    expect(page.locator("table").filter(has_text="Charged")).to_contain_text("Our KIE account")
    page.screenshot(path=ARTIFACTS / "spending.png", full_page=True)


def walk(job, *states, provider):
    """Move a job through the states a worker would, the ledger following."""
    now = S.QUEUED
    for state in states:
        services.transition(job.pk, from_states=[now], to=state, provider=provider)
        now = state


def money(text: str) -> Decimal:
    return Decimal(re.search(r"\$(\d+\.\d\d)", text).group(1))


@pytest.mark.parametrize("viewport", [DESKTOP_1366, PHONE], ids=["1366", "390"])
def test_a_members_page_shows_one_line_per_job_and_a_total_that_adds_up(
    live_server, new_page, owner, django_user_model, providers, viewport
):
    admin = django_user_model.objects.create_user("ada", is_team_admin=True)
    kie, apixo = providers["KIE.ai"], providers["Apixo"]
    done = make_jobs(owner, prompt="a settled heron", provider=kie, aspect_ratio="1:1")[0]
    walk(done, S.SUBMITTING, S.RUNNING, S.MIRRORING, S.SUCCEEDED, provider=kie)
    lost = make_jobs(owner, prompt="a refunded fox", provider=apixo, aspect_ratio="1:1")[0]
    walk(lost, S.SUBMITTING, S.FAILED, provider=apixo)
    make_jobs(owner, prompt="a kite still being made", provider=kie, aspect_ratio="1:1")

    for user, path in ((admin, f"/team/{owner.pk}/"), (owner, "/usage/")):
        page = new_page(viewport=viewport)
        use_session(page, live_server, Client(), user)
        page.goto(live_server.url + path)
        rows = page.locator(".ledger tbody tr")
        expect(rows).to_have_count(3)
        settled = rows.filter(has_text="a settled heron")
        expect(settled).to_have_count(1)
        expect(settled).to_contain_text("charged")
        expect(rows.filter(has_text="a refunded fox")).to_contain_text("refunded")
        expect(rows.filter(has_text="a kite still being made")).to_contain_text("reserved")
        shown = [money(text) for text in rows.locator("td.num").all_inner_texts()]
        total = money(page.locator(".ledger-total").inner_text())
        assert sum(shown) == total == Decimal("0.10")  # charged + still reserved; refunded 0
        page.screenshot(
            path=ARTIFACTS / f"ledger-{user.username}-{viewport['width']}.png", full_page=True
        )


# Each chart text's rendered size (its SVG size times the SVG's scale), where it is, and
# whether it is inside its chart; hidden texts (thinned day labels) are left out.
CHART_TEXTS = """() => Array.from(document.querySelectorAll('.chart-svg text'))
  .filter(t => getComputedStyle(t).display !== 'none')
  .map(t => {
    const rect = t.getBoundingClientRect(), svg = t.closest('svg').getBoundingClientRect();
    return {
      text: t.textContent, value: t.classList.contains('chart-value'),
      px: parseFloat(getComputedStyle(t).fontSize) * rect.height / t.getBBox().height,
      left: rect.left, right: rect.right, y: Math.round(rect.top),
      inside: rect.top >= svg.top - 0.5 && rect.bottom <= svg.bottom + 0.5
        && rect.left >= svg.left - 0.5 && rect.right <= svg.right + 0.5,
    };
  })"""


@pytest.mark.parametrize("viewport", [DESKTOP_1366, PHONE], ids=["1366", "390"])
def test_chart_labels_and_values_are_readable_and_inside_their_charts(
    live_server, new_page, owner, django_user_model, providers, viewport
):
    admin = django_user_model.objects.create_user("ada", is_team_admin=True)
    for n, name in enumerate(("KIE.ai", "Apixo", "KIE.ai")):
        job = make_jobs(owner, prompt=f"picture {n}", provider=providers[name],
                        aspect_ratio="1:1")[0]  # fmt: skip
        walk(job, S.SUBMITTING, S.RUNNING, S.MIRRORING, S.SUCCEEDED, provider=providers[name])
    # And a whole month of days: 30 bars to a chart, the crowded case.
    month = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)
    for day in range(30):
        at = timezone.make_aware(datetime.combine(month + timedelta(days=day), time(12)))
        LedgerEntry.objects.create(job=job, user=owner, kind="adjust", amount=Decimal("0.05"),
                                   delta=Decimal(day + 1) / 100, period=month, at=at)  # fmt: skip

    last = f"?month={month:%Y-%m}"
    pages = ["/team/usage/", "/usage/", f"/team/usage/{last}", f"/usage/{last}"]
    for n, path in enumerate(pages):
        user = admin if path.startswith("/team/") else owner
        page = new_page(viewport=viewport)
        use_session(page, live_server, Client(), user)
        page.goto(live_server.url + path)
        expect(page.locator(".chart-svg").first).to_be_visible()
        texts = page.evaluate(CHART_TEXTS)
        assert texts and any(t["value"] for t in texts) == (path == "/team/usage/")
        assert len(texts) > (5 if "month" in path else 0)
        for text in texts:
            assert text["px"] >= 11, text  # at 390 px they were about 6 px tall
            assert text["inside"], text  # the tallest bar's value was cut off at the top
        labels = sorted((t for t in texts if not t["value"]), key=lambda t: (t["y"], t["left"]))
        for one, other in itertools.pairwise(labels):
            assert one["y"] != other["y"] or one["right"] <= other["left"], (one, other)
        page.screenshot(
            path=ARTIFACTS / f"charts-{n}-{user.username}-{viewport['width']}.png", full_page=True
        )


@pytest.mark.parametrize("viewport", [DESKTOP_1366, PHONE], ids=["1366", "390"])
def test_a_provider_that_answered_a_moment_ago_says_just_now(
    live_server, new_page, django_user_model, providers, viewport
):
    admin = django_user_model.objects.create_user("ada", is_team_admin=True)
    kie = providers["KIE.ai"]
    type(kie).objects.filter(pk=kie.pk).update(last_success_at=timezone.now())
    page = new_page(viewport=viewport)
    use_session(page, live_server, Client(), admin)
    page.goto(live_server.url + "/providers/")
    found = page.locator(".provider[data-provider='KIE.ai']")
    expect(found).to_contain_text("just now")
    expect(found).not_to_contain_text("0 minutes")
