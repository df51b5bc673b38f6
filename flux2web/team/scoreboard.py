"""The providers' scoreboard: what each provider's jobs did per model over the last 24 hours,
7 or 30 days, read from the record jobs keep as they end (scores), as a page and a CSV.

The page reads the window's Tally rows (at most a row per provider, model and hour or day:
8 providers' models over 30 days are 240 rows, however many jobs there were) and the
providers. Its record part is kept HTML (lib/kept.py) in pieces, found by one aggregate
query (each line's row count, newest id and last change): each provider and model's line
under its own rows, the charts under all of them, Auto's verdicts by the minute. A view
with no job ended since reads no row; the first view after a job ended reads that line's
rows and the sums per hour or day for the charts, whose unchanged bars stay kept. An
admin's page adds the create windows and the 429s per provider, drawn each time. Its
query count does not grow.
"""

from __future__ import annotations

import csv
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, timedelta
from decimal import Decimal
from functools import reduce
from operator import or_
from typing import NamedTuple

from django.db import connection
from django.db.models import Q
from django.http import HttpResponse, HttpResponseBadRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from flux2web.credentials.models import CreateWindow, ProviderCredential, polling_words
from flux2web.credentials.pacing import MARGIN_SECONDS
from flux2web.lib.charts import bar_chart, drawn, stacked_chart
from flux2web.lib.kept import fill, kept, kept_each, marker
from flux2web.lib.shells import render_with_shell
from flux2web.scores import tally
from flux2web.scores.models import Tally
from flux2web.team.views import _csv_safe

DEFAULT_WINDOW = "24h"
# What a failure column says, in the record's own names (scores/models.Tally).
FAILURES = (
    ("refused", "Refused before spending"),
    ("content", "Content rules"),
    ("vendor_error", "Vendor error"),
    ("timed_out", "Timed out"),
    ("lost", "Lost / uncertain"),
)


@dataclass
class Line:
    """One provider's record for one model over the window, as the page says it."""

    credential_id: int
    name: str
    model: str
    figures: tally.Figures
    skipped: str = ""  # why Auto passes this provider by now, if it does

    @property
    def success(self) -> str:
        rate = self.figures.success_rate
        return "–" if rate is None else f"{rate:.0%}"

    @property
    def failures(self) -> list[tuple[str, str, int]]:
        return [(name, label, self.figures.counts[name]) for name, label in FAILURES]

    @property
    def median(self) -> str:
        return seconds(self.figures.median_seconds)

    @property
    def p95(self) -> str:
        return seconds(self.figures.p95_seconds)

    @property
    def cost(self) -> str:
        return money(self.figures.cost_per_image)

    @property
    def listed(self) -> str:
        return money(self.figures.list_per_image)

    @property
    def reported(self) -> str:
        """What the vendor said it charged an image, where it says: "12 credits an image,
        as KIE.ai reported"; empty for a vendor that reports no cost."""
        each = self.figures.reported_per_image
        if each is None:
            return ""
        amount = f"{each:.2f}".rstrip("0").rstrip(".")
        return f"{amount} credit{'' if each == 1 else 's'} an image, as {self.name} reported"

    @property
    def against_list(self) -> str:
        """How far the cost per image stands from the list price: "+40%", "at list price"."""
        cost, listed = self.figures.cost_per_image, self.figures.list_per_image
        if cost is None or not listed:
            return ""
        change = (cost - listed) / listed
        if abs(change) < Decimal("0.005"):
            return "at list price"
        return f"{'+' if change > 0 else '−'}{abs(change):.0%} against list"


def seconds(value: int | None) -> str:
    return "–" if value is None else f"{value} s"


def money(value: Decimal | None) -> str:
    """Per-image prices run to fractions of a cent ($0.035): up to 4 places, at least 2."""
    if value is None:
        return "–"
    text = f"{value:.4f}".rstrip("0")
    whole, _, cents = text.partition(".")
    return f"${whole}.{cents.ljust(2, '0')}"


def window_of(request) -> tuple[str, bool]:
    """(the window asked for, or the default; whether what was asked is one we have)."""
    asked = request.GET.get("window", DEFAULT_WINDOW)
    return (asked, True) if asked in tally.WINDOWS else (DEFAULT_WINDOW, False)


def buckets(window: str, now) -> list:
    """The starts of the window's hours or days, oldest first (as window_rows reads them)."""
    span, count, _ = tally.WINDOWS[window]
    latest = tally.bucket_start(span, now)
    step = timedelta(days=1) if span == tally.Span.DAY else timedelta(hours=1)
    return [latest - step * n for n in range(count - 1, -1, -1)]


def read_figures(window: str, now, lines=None) -> dict[tuple[int, str], tally.Figures]:
    """{(provider id, model): Figures} over the window, from its rows; only `lines`' rows
    (pairs of provider id and model), where given."""
    rows = tally.window_values(window, now=now)
    if lines is not None:
        rows = rows.filter(
            reduce(or_, (Q(credential_id=pk, model=model) for pk, model in lines), Q(pk=None))
        )
    found: dict[tuple[int, str], tally.Figures] = {}
    for row in rows:
        key = (row["credential_id"], row["model"])
        found.setdefault(key, tally.Figures(*key)).take(row)
    return found


def board(window: str, *, now=None, providers=None) -> dict:
    """The window's lines, in the providers' order, from one read of its Tally rows."""
    now = now or timezone.now()
    providers = _providers() if providers is None else providers
    order = {pk: n for n, pk in enumerate(providers)}
    found = read_figures(window, now)
    lines = [
        Line(pk, providers[pk].name if pk in providers else "?", model, figures)
        for (pk, model), figures in sorted(found.items(), key=lambda i: (order.get(i[0][0]), i[0]))
    ]
    return {"lines": lines}


def charts(window: str, now, names: dict[int, str]) -> dict:
    """The window's two charts, drawn, from the sums of its rows per hour or day and
    provider (no row's times read); `names`: {provider id: name}."""
    span = tally.WINDOWS[window][0]
    starts = buckets(window, now)
    # Read raw, as record_shows is: the ORM's building of this query and its conversion of
    # each row took longer than the rest of the charts' figures. SQLite gives a start back
    # naive (in UTC, as Django wrote it), PostgreSQL aware.
    adapt = connection.ops.adapt_datetimefield_value
    failures = " + ".join(name for name, _ in FAILURES)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT start, credential_id, SUM(attempts), SUM({failures}) "  # noqa: S608 - our names
            f"FROM {connection.ops.quote_name(Tally._meta.db_table)} "
            "WHERE span = %s AND start > %s GROUP BY start, credential_id",
            [span, adapt(tally.window_start(window, now))],
        )
        sums = cursor.fetchall()
    tried: dict = {}  # bucket start: {series: attempts}
    failed: dict = {}
    for start, pk, attempts, failures_there in sums:
        start = start if start.tzinfo else start.replace(tzinfo=UTC)
        tried.setdefault(start, Counter())[names.get(pk, "?")] += attempts
        failed[start] = failed.get(start, 0) + failures_there
    unit = "hour" if span == tally.Span.HOUR else "day"

    def label(start) -> str:
        local = timezone.localtime(start)
        return f"{local:%H}h" if span == tally.Span.HOUR else f"{start:%-d %b}"

    labels = [(label(s), s) for s in starts]
    return {
        "attempts_chart": drawn(
            stacked_chart(
                f"Jobs per {unit}, by provider", [(n, tried.get(s, {})) for n, s in labels]
            )
        ),
        "failures_chart": drawn(
            bar_chart(f"Failed or refused per {unit}", [(n, failed.get(s, 0)) for n, s in labels])
        ),
    }


@dataclass
class Pacing:
    """A provider's create limit, how full its window is now, and its 429s in the window."""

    name: str
    limit: str
    sent: int
    room_in: float
    rate_limited: int


def pacing(limited: dict, *, now: float | None = None) -> list[Pacing]:
    """Every provider's pacing, in the providers' order, from one read of them and their
    create windows (credentials/pacing.py); `limited`: {provider id: its 429s in the
    window}. Drawn on each view: how full a window is changes by the second."""
    now = time.time() if now is None else now
    quote = connection.ops.quote_name
    providers, windows = (quote(m._meta.db_table) for m in (ProviderCredential, CreateWindow))
    # Read raw, as record_shows is: the ORM's building of this query took longer than the
    # rest of an admin's pacing table.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.id, c.name, c.dialect, c.create_limit_count, c.create_limit_seconds, "  # noqa: S608 - our table names
            f"w.sent FROM {providers} c LEFT JOIN {windows} w ON w.credential_id = c.id "
            "ORDER BY c.priority, c.name, c.id"
        )
        found = cursor.fetchall()
    sent_field = CreateWindow._meta.get_field("sent")
    rows = []
    for pk, name, dialect, limit_count, limit_seconds, window in found:
        credential = ProviderCredential(
            pk=pk,
            name=name,
            dialect=dialect,
            create_limit_count=limit_count,
            create_limit_seconds=limit_seconds,
        )
        sent_times = sent_field.from_db_value(window, None, connection) or []
        limit = credential.create_limit
        sent, wait = 0, 0.0
        if limit:
            count, span = limit[0], limit[1] + MARGIN_SECONDS
            recent = sorted(t for t in sent_times if isinstance(t, int | float) and t > now - span)
            sent = len(recent)
            wait = recent[-count] + span - now if len(recent) >= count else 0.0
        words = credential.create_limit_words
        rows.append(Pacing(credential.name, words, sent, wait, limited.get(credential.pk) or 0))
    return rows


def auto_skips(providers: dict) -> dict[int, str]:
    """{provider id: why} for the providers Auto passes by as failing lately."""
    from flux2web.jobs import routing

    health = routing.provider_health(credentials=list(providers.values()))
    return {pk: found.reason for pk, found in health.items() if found.skipped}


def _providers() -> dict[int, ProviderCredential]:
    return {c.pk: c for c in ProviderCredential.objects.order_by("priority", "name")}


# Auto's verdicts follow the clock as well as the record (its last hour slides, a quiet
# provider's trial comes due): they are drawn afresh once a minute, not on every job.
HEALTH_SECONDS = 60


class Shown(NamedTuple):
    """A line of the record as its kept HTML is keyed: its provider (id, name, place), its
    model, and the stamp of its rows in the window (how many, the newest, the latest
    change: every count and take-back stamps its rows; a rebuild writes new ones)."""

    credential_id: int
    name: str
    priority: int
    model: str
    stamp: tuple


def record_shows(window: str, now) -> tuple[tuple, list[Shown], Counter]:
    """What the record's part of the page shows, in one query: when the providers last
    changed (their names, order, polling, Auto's verdicts) and each line's stamp, in the
    providers' order; and each provider's 429s in the window, for an admin's pacing."""
    span = tally.WINDOWS[window][0]
    quote = connection.ops.quote_name
    rows, providers = (quote(m._meta.db_table) for m in (Tally, ProviderCredential))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.changed, p.n, t.limited, c.id, c.name, c.priority, "  # noqa: S608 - our table names
            "t.model, t.n, t.last, t.changed "
            f"FROM (SELECT MAX(updated_at) AS changed, COUNT(*) AS n FROM {providers}) p "
            "LEFT JOIN (SELECT credential_id, model, SUM(rate_limited) AS limited, "
            "COUNT(*) AS n, MAX(id) AS last, MAX(changed_at) AS changed "
            f"FROM {rows} WHERE span = %s AND start > %s "
            "GROUP BY credential_id, model) t ON 1 = 1 "
            f"LEFT JOIN {providers} c ON c.id = t.credential_id",
            [span, connection.ops.adapt_datetimefield_value(tally.window_start(window, now))],
        )
        found = cursor.fetchall()
    lines = [
        Shown(pk, name, priority, model, tuple(str(v) for v in stamp))
        for _, _, _, pk, name, priority, model, *stamp in found
        if pk is not None
    ]
    lines.sort(key=lambda line: (line.priority, line.name, line.credential_id, line.model))
    limited = Counter()
    for row in found:
        if row[3] is not None:
            limited[row[3]] += row[2] or 0
    return tuple(str(v) for v in found[0][:2]), lines, limited


def _lines_html(window: str, now, shown: list[Shown]) -> list[str]:
    """The missing lines, their rows read together; Auto's verdict on each line's provider
    left as a marker (it follows the clock, not the line)."""
    found = read_figures(window, now, [(s.credential_id, s.model) for s in shown])
    html = []
    for s in shown:
        figures = found.get((s.credential_id, s.model)) or tally.Figures(s.credential_id, s.model)
        line = Line(s.credential_id, s.name, s.model, figures)
        badge = mark_safe(marker(f"skip-{s.credential_id}"))  # noqa: S308 - ours
        html.append(render_to_string("team/scoreboard.html#line", {"line": line, "badge": badge}))
    return html


def _health_html(ids: list[int]) -> list[str]:
    """Auto's verdicts, read once: the notice (for id 0) and each provider's badge."""
    providers = _providers()
    skipped = auto_skips(providers)
    named = [(providers[pk].name, why) for pk, why in skipped.items() if pk in providers]
    return [
        render_to_string("team/scoreboard.html#skips", {"skipped": named})
        if pk == 0
        else render_to_string("team/scoreboard.html#badge", {"why": skipped.get(pk, "")})
        for pk in ids
    ]


def record_html(window: str, now, shows: tuple) -> str:
    """The record's part of the page (`shows`: record_shows'), kept whole under everything
    it shows, so a view with nothing changed reads one fragment; else put together from its
    kept pieces: the first view after a job ended draws that job's line and the charts'
    changed bars, not every line (bench/pages.py)."""
    providers_stamp, shown, _ = shows
    where = (window, tally.bucket_start(tally.WINDOWS[window][0], now).isoformat())
    minute = int(now.timestamp()) // HEALTH_SECONDS
    zone = timezone.get_current_timezone_name()
    everything = (*where, zone, minute, providers_stamp, *map(tuple, shown))
    return kept(
        "scoreboard-record",
        everything,
        lambda: _record_pieces(window, now, providers_stamp, shown, where, minute, zone),
    )


def _record_pieces(window, now, providers_stamp, shown, where, minute, zone) -> str:
    """The record put together from its kept pieces, each drawn only when what it shows
    changed: the lines, Auto's verdicts, the charts and the frame around them."""
    lines = kept_each(
        "scoreboard-line",
        shown,
        lambda s: (*where, *s),
        render_all=lambda missing: _lines_html(window, now, missing),
    )
    ids = [0, *dict.fromkeys(s.credential_id for s in shown)]
    health = kept_each(
        "scoreboard-health", ids, lambda pk: (minute, providers_stamp, pk), render_all=_health_html
    )
    names = {s.credential_id: s.name for s in shown}
    drawn = shown and kept(
        "scoreboard-charts",
        (*where, zone, *map(tuple, shown)),
        lambda: render_to_string("team/scoreboard.html#charts", charts(window, now, names)),
    )

    def frame() -> str:
        slots = {name: mark_safe(marker(f"board-{name}")) for name in ("skips", "lines", "charts")}  # noqa: S308 - ours
        context = {
            "has_lines": bool(shown),
            "window_words": tally.WINDOWS[window][2],
            "failure_columns": FAILURES,
            "polling": polling_words(_providers().values()),
            **slots,
        }
        return render_to_string("team/scoreboard.html#record", context)

    around = kept("scoreboard", (window, bool(shown), providers_stamp), frame)
    badges = {f"skip-{pk}": badge for pk, badge in zip(ids[1:], health[1:], strict=True)}
    parts = {"board-skips": health[0], "board-lines": "".join(lines), "board-charts": drawn or ""}
    return fill(around, **parts, **badges)


@require_GET
def scoreboard(request):
    window, known = window_of(request)
    now = timezone.now()
    context = {
        "window": window,
        "window_words": tally.WINDOWS[window][2],
        "windows": [(key, words) for key, (_, _, words) in tally.WINDOWS.items()],
        "unknown_window": not known,
    }
    shows = record_shows(window, now)
    pacing_html = ""
    if request.user.is_admin:  # live: drawn each time into the kept page (lib/shells.py)
        pacing_context = {"pacing": pacing(shows[2]), **context}
        pacing_html = render_to_string("team/scoreboard.html#pacing", pacing_context)
    record = mark_safe(record_html(window, now, shows))  # noqa: S308 - our own templates
    slots = {"record": record, "pacing_html": pacing_html}
    return render_with_shell(request, "team/scoreboard.html", context, slots=slots, partials={})


CSV_COLUMNS = (
    "window", "provider", "model", "attempts", "succeeded", "success_rate", "refused",
    "rate_limited", "content", "vendor_error", "timed_out", "lost", "cancelled",
    "median_seconds", "p95_seconds", "images", "charged_per_image_usd", "list_per_image_usd",
    "vendor_reported_credits_per_image",
)  # fmt: skip
# Each provider's 429s are for admins (as on the page, in the Pacing table).
ADMIN_ONLY = ("rate_limited",)


@require_GET
def scoreboard_csv(request):
    window, known = window_of(request)
    if not known:  # a download of another window than asked for would mislead
        return HttpResponseBadRequest(
            "Choose a window of 24h, 7d or 30d.", content_type="text/plain; charset=utf-8"
        )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = f"{timezone.localtime():%Y-%m-%d}"
    response["Content-Disposition"] = f'attachment; filename="scoreboard-{window}-{stamp}.csv"'
    shown = [n for n, name in enumerate(CSV_COLUMNS)
             if request.user.is_admin or name not in ADMIN_ONLY]  # fmt: skip
    writer = csv.writer(response)
    writer.writerow([CSV_COLUMNS[n] for n in shown])
    for line in board(window)["lines"]:
        f = line.figures
        rate = f.success_rate
        values = (
            [
                window, _csv_safe(line.name), line.model, f.attempts, f.succeeded,
                "" if rate is None else f"{rate:.4f}", f.refused, f.rate_limited, f.content,
                f.vendor_error, f.timed_out, f.lost, f.cancelled,
                "" if f.median_seconds is None else f.median_seconds,
                "" if f.p95_seconds is None else f.p95_seconds, f.images,
                "" if f.cost_per_image is None else f"{f.cost_per_image:.4f}",
                "" if f.list_per_image is None else f"{f.list_per_image:.4f}",
                "" if f.reported_per_image is None else f"{f.reported_per_image:.4f}",
            ]
        )  # fmt: skip
        writer.writerow([values[n] for n in shown])
    return response
