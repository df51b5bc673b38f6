"""The providers' scoreboard: what a member reads per provider and model over a window, the
CSV of the same figures, and the pacing block only admins see."""

import csv
import html
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from flux2web.credentials.models import CreateWindow, ProviderCredential
from flux2web.scores import tally
from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(django_user_model):
    return django_user_model.objects.create_user("ada", password=PASSWORD, is_team_admin=True)


@pytest.fixture
def kie():
    return ProviderCredential.objects.create(
        name="KIE one", dialect="kie", base_url="http://x", priority=10
    )


@pytest.fixture
def apixo():
    return ProviderCredential.objects.create(
        name="=Apixo", dialect="apixo", base_url="http://y", priority=20
    )


def ok(seconds, charged="0.07", listed="0.05"):
    return tally.Outcome("succeeded", seconds=seconds, images=1, charged=Decimal(charged),
                         listed=Decimal(listed))  # fmt: skip


@pytest.fixture
def record(kie, apixo):
    now = timezone.now()
    for s in (10, 12, 14, 40):
        tally.add(kie.pk, "pro", ok(s), at=now)
    tally.add(kie.pk, "pro", tally.Outcome("refused", rate_limited=True), at=now)
    tally.add(kie.pk, "pro", tally.Outcome("content"), at=now)
    tally.add(kie.pk, "pro", tally.Outcome("lost"), at=now - timedelta(days=3))
    tally.add(apixo.pk, "flex", ok(20, charged="0.03", listed="0.03"), at=now)
    tally.add(apixo.pk, "flex", tally.Outcome("timed_out"), at=now)
    return now


def row(page: str, name: str, model: str) -> str:
    found = re.search(
        rf'<tr data-provider="{re.escape(name)}" data-model="{model}">(.*?)</tr>', page, re.S
    )
    assert found, f"no row for {name} {model}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()


def test_a_member_reads_each_providers_figures_over_the_last_day(client, owner, record):
    client.force_login(owner)
    response = client.get("/scoreboard/")
    assert response.status_code == 200
    page = response.content.decode()
    # Jobs, success, refused (its 429s are for admins), content, vendor error, timed out,
    # lost, median, p95, cost per image against the list price.
    assert row(page, "KIE one", "pro") == (
        "KIE one FLUX.2 pro 6 67% 1 1 0 0 0 12 s 40 s $0.07 +40% against list – $0.05"
    )
    assert row(page, "=Apixo", "flex") == (
        "=Apixo FLUX.2 flex 2 50% 0 0 0 1 0 20 s 20 s $0.03 at list price – $0.03"
    )
    assert "Jobs per hour, by provider" in page
    assert '<svg width="100%"' in page
    assert "Pacing" not in page  # admins only


def test_a_longer_window_reads_the_days_before(client, owner, record):
    client.force_login(owner)
    page = client.get("/scoreboard/?window=7d").content.decode()
    assert row(page, "KIE one", "pro").startswith("KIE one FLUX.2 pro 7 57% 1 1 0 0 1")
    assert 'href="?window=7d" aria-current="page"' in page
    assert "Jobs per day, by provider" in page


def test_an_unknown_window_shows_the_last_day_and_says_so(client, owner, record):
    client.force_login(owner)
    response = client.get("/scoreboard/?window=%00<script>")
    assert response.status_code == 200
    page = response.content.decode()
    assert "There is no such window; showing the last 24 hours." in page
    assert 'href="?window=24h" aria-current="page"' in page


def test_no_jobs_yet_is_explained(client, owner):
    client.force_login(owner)
    page = client.get("/scoreboard/").content.decode()
    assert "No job has ended at any provider in the last 24 hours." in page
    assert "<table" not in page


def test_the_csv_holds_the_same_figures_safe_for_a_spreadsheet(client, owner, record):
    client.force_login(owner)
    response = client.get("/scoreboard.csv?window=24h")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="scoreboard-24h-' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    kie = next(r for r in rows if r["provider"] == "KIE one")
    assert (kie["attempts"], kie["succeeded"], kie["success_rate"]) == ("6", "4", "0.6667")
    assert (kie["refused"], kie["content"]) == ("1", "1")
    assert "rate_limited" not in rows[0]  # 429s are an admin's figure
    assert (kie["median_seconds"], kie["p95_seconds"]) == ("12", "40")
    assert (kie["charged_per_image_usd"], kie["list_per_image_usd"]) == ("0.0700", "0.0500")
    # A provider named like a formula is text in a spreadsheet.
    assert any(r["provider"] == "'=Apixo" for r in rows)
    assert client.get("/scoreboard.csv?window=1y").status_code == 400


def test_admins_see_each_providers_pacing_and_its_429s(client, admin, owner, record, kie):
    CreateWindow.objects.create(credential=kie, sent=[timezone.now().timestamp() - 1] * 20)
    client.force_login(admin)
    page = client.get("/scoreboard/").content.decode()
    assert "Pacing" in page
    pacing = re.search(r'<tr data-pacing="KIE one">(.*?)</tr>', page, re.S).group(1)
    text = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", pacing)).strip())
    assert text.startswith(
        "KIE one 20 new tasks per 10 s (the vendor's documented limit) 20 full for"
    )
    assert text.endswith(" 1")  # its one 429 in the window
    assert "429" not in row(page, "KIE one", "pro")  # in the Pacing table, once
    admins_csv = client.get("/scoreboard.csv?window=24h").content.decode()
    rows = list(csv.DictReader(io.StringIO(admins_csv)))
    assert next(r for r in rows if r["provider"] == "KIE one")["rate_limited"] == "1"
    client.force_login(owner)
    page = client.get("/scoreboard/").content.decode()
    assert "data-pacing" not in page
    assert "429" not in page


def test_the_page_reads_a_fixed_number_of_queries_however_big_the_record(client, admin, kie, apixo):
    client.force_login(admin)
    client.get("/scoreboard/?window=30d")

    def count():
        cache.clear()  # the record's part rendered afresh each time (it is kept HTML)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/scoreboard/?window=30d").status_code == 200
        return len(queries)

    tally.add(kie.pk, "pro", ok(10))
    small = count()  # one job's line
    now = timezone.now()
    for day in range(30):
        for credential in (kie, apixo):
            for model in ("pro", "flex"):
                tally.add(credential.pk, model, ok(10 + day), at=now - timedelta(days=day))
    assert count() == small


def test_the_kept_record_follows_every_job_that_ends_and_every_lost_one_found(client, owner, kie):
    client.force_login(owner)
    tally.add(kie.pk, "pro", ok(10))
    assert row(client.get("/scoreboard/").content.decode(), "KIE one", "pro").startswith(
        "KIE one FLUX.2 pro 1 100%"
    )
    tally.add(kie.pk, "pro", tally.Outcome("lost"))
    assert row(client.get("/scoreboard/").content.decode(), "KIE one", "pro").startswith(
        "KIE one FLUX.2 pro 2 50% 0 0 0 0 1"
    )
    tally.add(kie.pk, "pro", tally.Outcome("lost"), undo=True)
    tally.add(kie.pk, "pro", ok(30))
    assert row(client.get("/scoreboard/").content.decode(), "KIE one", "pro").startswith(
        "KIE one FLUX.2 pro 2 100% 0 0 0 0 0 10 s 30 s"
    )


def test_the_scoreboard_is_in_the_account_menu(client, owner):
    client.force_login(owner)
    page = client.get("/usage/").content.decode()
    assert 'href="/scoreboard/">Provider scoreboard</a>' in page


def test_the_times_say_they_include_our_polling_without_callbacks(client, owner, record, settings):
    settings.PUBLIC_URL = ""
    client.force_login(owner)
    page = html.unescape(client.get("/scoreboard/").content.decode())
    assert "Times run from the provider accepting a job to its images stored here" in page
    assert "without callbacks (no public address is set) they include our polling" in page
    assert "first status read after KIE one 2.5 s, =Apixo 15 s" in page


def test_an_admins_kept_page_shows_a_provider_switched_off_at_once(client, admin, kie):
    client.force_login(admin)
    assert "is switched off" not in client.get("/scoreboard/").content.decode()
    assert "is switched off" not in client.get("/scoreboard/").content.decode()  # kept now
    ProviderCredential.objects.filter(pk=kie.pk).update(enabled=False, disabled_reason="auth")
    page = client.get("/scoreboard/").content.decode()
    assert "KIE one is switched off:</strong> its API key was refused (401)" in page
    assert "shell-" not in page  # no marker left unfilled
    ProviderCredential.objects.filter(pk=kie.pk).update(enabled=True, disabled_reason="")
    assert "is switched off" not in client.get("/scoreboard/").content.decode()


def test_an_admins_pacing_is_current_on_every_view(client, admin, kie):
    client.force_login(admin)
    sent = 'data-label="Sent in the window now">{}</td>'
    assert sent.format(0) in client.get("/scoreboard/").content.decode()
    CreateWindow.objects.create(credential=kie, sent=[timezone.now().timestamp() - 1] * 3)
    assert sent.format(3) in client.get("/scoreboard/").content.decode()


def test_a_member_made_an_admin_sees_the_admins_page_at_once(client, owner, kie):
    client.force_login(owner)
    page = client.get("/scoreboard/").content.decode()
    assert "Pacing" not in page and ">Providers</a>" not in page
    owner.is_team_admin = True
    owner.save()
    page = client.get("/scoreboard/").content.decode()
    assert "Pacing" in page and ">Providers</a>" in page
    owner.is_team_admin = False
    owner.save()
    page = client.get("/scoreboard/").content.decode()
    assert "Pacing" not in page and ">Providers</a>" not in page


def chart_table(page: str, title: str) -> str:
    """The chart's "As a table", as text."""
    found = re.search(rf"<figcaption>{title}.*?<details.*?</details>", page, re.S)
    assert found, f"no chart {title}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(0))).strip()


def test_a_job_that_ended_shows_in_its_line_and_the_charts_while_the_rest_is_kept(
    client, owner, record, kie, apixo
):
    client.force_login(owner)
    before = client.get("/scoreboard/").content.decode()
    assert "8 (=Apixo 2, KIE one 6)" in chart_table(before, "Jobs per hour")
    tally.add(apixo.pk, "flex", tally.Outcome("vendor_error"))
    page = client.get("/scoreboard/").content.decode()
    assert row(page, "=Apixo", "flex").startswith("=Apixo FLUX.2 flex 3 33% 0 0 1 1 0")
    assert row(page, "KIE one", "pro") == row(before, "KIE one", "pro")
    assert "9 (=Apixo 3, KIE one 6)" in chart_table(page, "Jobs per hour")
    assert ": 4" in chart_table(page, "Failed or refused per hour")  # 3 before
    assert "shell-" not in page


def test_a_provider_renamed_is_renamed_everywhere_on_the_next_view(client, owner, record, kie):
    client.force_login(owner)
    assert "KIE one" in client.get("/scoreboard/").content.decode()
    kie.name = "KIE two"
    kie.save()
    page = client.get("/scoreboard/").content.decode()
    assert "KIE one" not in page
    assert row(page, "KIE two", "pro").startswith("KIE two FLUX.2 pro 6")
    assert "KIE two 6" in chart_table(page, "Jobs per hour")


def test_the_kept_charts_draw_what_the_whole_template_draws(settings):
    from django.template.loader import render_to_string

    from flux2web.lib.charts import bar_chart, drawn, stacked_chart

    charts = [
        stacked_chart("Jobs", [(f"{n}h", {"A": n % 3, "B <b>": n % 5}) for n in range(24)]),
        bar_chart("Failed", [(f"{n} May", n % 4) for n in range(30)]),
        bar_chart("Spend", [("KIE", 3), ("Apixo", 1.5)], money=True, toned=True),
        bar_chart("Nothing", [("1h", 0)]),
    ]
    for chart in charts:
        whole = render_to_string("partials/bar_chart.html", {"chart": chart})
        for _ in range(2):  # drawn, then from where its bars are kept
            assert drawn(chart).split() == whole.split()


def test_when_the_tallest_bar_grows_only_its_row_of_the_table_is_drawn_again(monkeypatch):
    from django.template.loader import render_to_string

    from flux2web.lib import charts

    def month(today):
        return charts.stacked_chart("Jobs", [(f"{n} May", {"A": 4}) for n in range(29)]
                                    + [("30 May", {"A": today})])  # fmt: skip

    charts.drawn(month(4))
    drawn_rows = []

    def counting(name, context=None, *args, **kwargs):
        if name.endswith("#row"):
            drawn_rows.append(context["bar"].label)
        return render_to_string(name, context, *args, **kwargs)

    monkeypatch.setattr(charts, "render_to_string", counting)
    grown = month(9)  # every other bar is now drawn shorter: their rows say the same
    assert (
        charts.drawn(grown).split()
        == render_to_string("partials/bar_chart.html", {"chart": grown}).split()
    )
    assert drawn_rows == ["30 May"]
