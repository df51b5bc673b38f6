"""An admin adds a provider key, sets a member's monthly limit and watches spending; the
member is stopped at the limit. Debian's Chromium, a live server, a qcluster, the sandbox."""

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from flux2web.jobs.models import Job
from tests.e2e.helpers import ARTIFACTS, use_session

pytestmark = pytest.mark.django_db(transaction=True)


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
