"""The providers' scoreboard in a browser: a member reads it on a phone and on a laptop, in
light and dark, without sideways scrolling; the windows are plain links."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from flux2web.credentials.models import ProviderCredential
from flux2web.scores import tally
from tests.e2e.helpers import ARTIFACTS, PHONE, use_session

pytestmark = pytest.mark.django_db(transaction=True)
LAPTOP = {"width": 1366, "height": 850}


@pytest.fixture
def record():
    now = timezone.now()
    named = [("KIE.ai with a rather long account name", "kie"), ("Apixo", "apixo"),
             ("LiangXin", "liangxin"), ("APIMart", "apimart")]  # fmt: skip
    for n, (name, dialect) in enumerate(named):
        credential = ProviderCredential.objects.create(
            name=name, dialect=dialect, base_url="http://x", priority=n
        )
        for model in ("pro", "flex"):
            for hours in range(0, 24 * 9, 5):
                at = now - timedelta(hours=hours)
                seconds = 12 + n * 6 + hours % 7
                done = tally.Outcome("succeeded", seconds=seconds, images=1,
                                     charged=Decimal("0.05"), listed=Decimal("0.045"))  # fmt: skip
                tally.add(credential.pk, model, done, at=at)
                if hours % 3 == n % 3:
                    tally.add(credential.pk, model, tally.Outcome("vendor_error"), at=at)
                if hours % 11 == 0:
                    tally.add(credential.pk, model, tally.Outcome("refused", rate_limited=True),
                              at=at)  # fmt: skip


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["390px", "1366px"])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_a_member_reads_the_scoreboard_without_sideways_scrolling(
    browser, live_server, owner, record, viewport, theme
):
    context = browser.new_context(viewport=viewport)
    context.add_cookies([{"name": "theme", "value": theme, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    use_session(page, live_server, Client(), owner)

    page.goto(live_server.url + "/usage/")
    page.locator(".usermenu summary").click()
    page.get_by_role("menuitem", name="Provider scoreboard").click()
    expect(page.get_by_role("heading", name="Provider scoreboard")).to_be_visible()
    expect(page.locator('tr[data-provider="Apixo"][data-model="pro"]')).to_contain_text("%")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

    page.get_by_role("link", name="Last 7 days").click()
    expect(page).to_have_url(re.compile(r"window=7d$"))
    expect(
        page.get_by_role("heading", name="Each provider and model over the last 7 days")
    ).to_be_visible()
    expect(page.get_by_role("img", name="Jobs per day, by provider")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=ARTIFACTS / f"scoreboard-{viewport['width']}-{theme}.png", full_page=True)
    context.close()
