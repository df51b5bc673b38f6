"""The spending charts tell providers apart: each provider its own
colour with a legend and its figure, and each day's bar stacked by provider."""

from decimal import Decimal

import pytest

from flux2web.billing.models import LedgerEntry
from flux2web.lib.charts import bar_chart, stacked_chart
from tests.jobs.factories import make_jobs

pytestmark = pytest.mark.django_db


def test_the_per_provider_chart_has_a_colour_a_value_and_a_legend_entry_per_provider():
    chart = bar_chart("Spend per provider", [("KIE.ai", 3), ("APIMart", 1.5)], money=True,
                      toned=True)  # fmt: skip
    assert [b.tone for b in chart.bars] == [0, 1]
    assert [(i.label, i.text) for i in chart.legend] == [("KIE.ai", "$3.00"), ("APIMart", "$1.50")]


def test_a_stacked_day_keeps_each_providers_share_and_the_total():
    chart = stacked_chart("Spend per day", [(1, {"KIE.ai": 1, "APIMart": 3}), (2, {})], money=True)
    first = chart.bars[0]
    assert first.text == "$4.00"
    assert {s.series: s.text for s in first.segments} == {"KIE.ai": "$1.00", "APIMart": "$3.00"}
    assert abs(sum(s.height for s in first.segments) - first.height) < 1e-6
    assert len({s.tone for s in first.segments}) == 2
    assert [i.label for i in chart.legend] == ["APIMart", "KIE.ai"]


def test_the_team_dashboard_names_each_provider_in_its_legends(admin_client, admin_user, providers):
    period = None
    for name, amount in (("KIE.ai", "0.30"), ("APIMart", "0.10")):
        (job,) = make_jobs(admin_user, prompt=f"for {name}", provider=providers[name],
                           aspect_ratio="1:1")  # fmt: skip
        period = LedgerEntry.objects.first().period
        LedgerEntry.objects.create(
            user=admin_user, job=job, provider=providers[name], kind="settle",
            amount=Decimal(amount), delta=Decimal(amount), period=period,
        )  # fmt: skip
    page = admin_client.get("/team/usage/").content.decode()
    legends = page.split('class="legend"')[1:]
    assert len(legends) == 2  # per provider, and per day by provider
    for legend in legends:
        body = legend.split("</ul>")[0]
        assert "KIE.ai" in body and "APIMart" in body
    assert 'class="tone-1"' in page


def test_a_month_of_days_marks_all_but_every_fifth_label_for_narrow_charts():
    chart = bar_chart("Spend per day", [(day, 1) for day in range(1, 32)], money=True)
    assert [b.label for b in chart.bars if not b.minor] == ["1", "5", "10", "15", "20", "25", "30"]
    assert not any(b.minor for b in bar_chart("Few", [(d, 1) for d in range(1, 8)]).bars)
    assert all(b.x >= 0 and b.x + b.width <= 100 for b in chart.bars)  # percent of the width


def test_the_end_labels_of_a_crowded_chart_hang_inwards():
    bars = bar_chart("Spend per day", [(day, 1) for day in range(1, 31)]).bars
    assert (bars[0].anchor, bars[0].label_x) == ("start", bars[0].x)
    assert (bars[-1].anchor, bars[-1].label_x) == ("end", bars[-1].x + bars[-1].width)
    assert bars[5].anchor == "middle"
