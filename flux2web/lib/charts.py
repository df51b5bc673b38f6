"""Bar charts drawn on the server as SVG: no JavaScript, no CDN, readable without colour.

Across, bars are placed in percent of the chart's width; up and down, in pixels of its
fixed height. The SVG has no viewBox, so it is never scaled: its texts keep their size
(12px) on a phone as on a desktop, where a scaled 480-unit chart drew them 6px tall."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from flux2web.lib.kept import kept, kept_each

TONES = 6  # distinct bar colours in app.css (.tone-0 to .tone-5), reused beyond six
LABELS = 34  # px under the bars for their labels
HEADROOM = 18  # px over the tallest bar for its value, where values are written
CROWDED = 12  # more bars than this: only every fifth label shows on a narrow chart


@dataclass(frozen=True)
class Segment:
    """One series' part of a stacked bar."""

    series: str
    text: str
    y: float
    height: float
    tone: int

    @property
    def at(self) -> str:
        """Its y and height as the SVG takes them, formatted once here: a month's stacked
        chart has a hundred segments, and a template filter per number was most of the
        page's drawing time."""
        return f'y="{self.y:.2f}" height="{self.height:.2f}"'


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str
    x: float  # percent of the chart's width
    y: float  # px
    width: float  # percent
    height: float  # px
    tone: int = 0
    segments: tuple[Segment, ...] = ()
    minor: bool = False  # a label narrow charts leave out (app.css), so the rest fit
    edge: str = ""  # "start" or "end": the first or last of many narrow bars

    @property
    def shows(self) -> tuple:
        """Everything it draws, as plain values: its kept HTML's key (drawn), read far faster
        than the dataclass's own repr."""
        parts = tuple((s.series, s.text, s.y, s.height, s.tone) for s in self.segments)
        fields = (self.label, self.value, self.text, self.x, self.y, self.width, self.height)
        return (*fields, self.tone, parts, self.minor, self.edge)

    @property
    def said(self) -> tuple:
        """What its row of the chart's table says (its words, not its place): a bar that
        only moved, as the tallest one grew, keeps its row."""
        return (self.label, self.text, tuple((s.series, s.text) for s in self.segments))

    @property
    def middle(self) -> float:
        return self.x + self.width / 2

    @property
    def across(self) -> str:
        """Its x and width as the SVG takes them (see Segment.at)."""
        return f'x="{self.x:.3f}%" width="{self.width:.3f}%"'

    @property
    def at(self) -> str:
        return f'{self.across} y="{self.y:.2f}" height="{self.height:.2f}"'

    @property
    def label_at(self) -> str:
        """Its label's place and class, as the SVG takes them (see Segment.at)."""
        minor = " minor" if self.minor else ""
        return f'x="{self.label_x:.3f}%" text-anchor="{self.anchor}" class="chart-label{minor}"'

    @property
    def short_label(self) -> str:
        """The label cut to 10 characters, as Django's truncatechars:10 cuts it."""
        return self.label if len(self.label) <= 10 else self.label[:9] + "…"

    @property
    def anchor(self) -> str:
        """Where the label hangs: centred under its bar, except at the ends of a crowded
        chart, where a centred label would stick out of the chart and be cut off."""
        return self.edge or "middle"

    @property
    def label_x(self) -> float:
        return {"start": self.x, "end": self.x + self.width}.get(self.edge, self.middle)


@dataclass(frozen=True)
class LegendItem:
    label: str
    text: str
    tone: int


@dataclass(frozen=True)
class BarChart:
    title: str
    bars: list[Bar]
    height: int
    top: str  # the largest value, as text, for the axis
    legend: tuple[LegendItem, ...] = ()
    values_shown: bool = False  # each bar's value written above it

    @property
    def empty(self) -> bool:
        return not any(bar.value for bar in self.bars)


def bar_chart(
    title: str, points, *, money: bool = False, height: int = 160, toned: bool = False
) -> BarChart:
    """`points` are (label, value) pairs; bars are scaled to the largest value. `toned`:
    each bar its own colour and value, with a legend (categories such as providers)."""
    points = list(points)
    top = HEADROOM if toned else 4  # toned bars have their values written over them
    plot = height - LABELS - top + 4
    largest = max((float(v) for _, v in points), default=0) or 1

    def fmt(value) -> str:
        return f"${Decimal(str(value)):,.2f}" if money else f"{value:g}"

    bars = []
    for n, (label, value) in enumerate(points):
        h = float(value) / largest * plot
        x, w = _column(n, len(points))
        bars.append(
            Bar(
                label=str(label),
                value=float(value),
                text=fmt(value),
                x=x,
                y=top + plot - h,
                width=w,
                height=h,
                tone=n % TONES if toned else 0,
                minor=_minor(n, len(points)),
                edge=_edge(n, len(points)),
            )
        )
    legend = tuple(LegendItem(b.label, b.text, b.tone) for b in bars) if toned else ()
    return BarChart(
        title=title,
        bars=bars,
        height=height,
        top=fmt(largest),
        legend=legend,
        values_shown=toned,
    )


def stacked_chart(title: str, points, *, money: bool = False, height: int = 160) -> BarChart:
    """`points` are (label, {series: value}) pairs: one bar per label, stacked by series
    (e.g. each day's spend by provider), each series its own colour, named in the legend."""
    points = [(label, {k: float(v) for k, v in parts.items() if v}) for label, parts in points]
    names = sorted({name for _, parts in points for name in parts})
    tone = {name: n % TONES for n, name in enumerate(names)}
    plot = height - LABELS
    largest = max((sum(parts.values()) for _, parts in points), default=0) or 1

    def fmt(value) -> str:
        return f"${Decimal(str(value)):,.2f}" if money else f"{value:g}"

    bars = []
    for n, (label, parts) in enumerate(points):
        bottom, segments = plot + 4, []
        for name in names:
            if name in parts:
                h = parts[name] / largest * plot
                bottom -= h
                segments.append(Segment(name, fmt(parts[name]), bottom, h, tone[name]))
        total = sum(parts.values())
        x, w = _column(n, len(points))
        bars.append(
            Bar(
                label=str(label),
                value=total,
                text=fmt(total),
                x=x,
                y=bottom,
                width=w,
                height=plot + 4 - bottom,
                segments=tuple(segments),
                minor=_minor(n, len(points)),
                edge=_edge(n, len(points)),
            )
        )
    totals = {name: sum(parts.get(name, 0) for _, parts in points) for name in names}
    legend = tuple(LegendItem(name, fmt(totals[name]), tone[name]) for name in names)
    return BarChart(title=title, bars=bars, height=height, top=fmt(largest), legend=legend)


def drawn(chart: BarChart) -> SafeString:
    """The chart's HTML (partials/bar_chart.html), kept under what it shows (lib/kept.py),
    and within it each bar and its row of the table: a chart whose latest bar grew draws
    that bar, not the month's thirty, and one that did not change is one read
    (bench/pages.py)."""
    shows = (chart.title, chart.height, chart.top, chart.legend, chart.values_shown)
    bars = tuple(bar.shows for bar in chart.bars)
    return mark_safe(kept("chart", (*shows, bars), lambda: _drawn(chart)))  # noqa: S308 - ours


def _drawn(chart: BarChart) -> str:
    template = "partials/bar_chart.html"
    around = {"label_y": chart.height - 16, "values_shown": chart.values_shown}
    bars = kept_each(
        "chart-bar",
        chart.bars,
        lambda bar: (bar.shows, chart.height, chart.values_shown),
        lambda bar: render_to_string(f"{template}#bar", {"bar": bar, **around}),
    )
    rows = kept_each(
        "chart-row",
        [bar for bar in chart.bars if bar.value],
        lambda bar: bar.said,
        lambda bar: render_to_string(f"{template}#row", {"bar": bar}),
    )
    parts = {"bars_html": "".join(bars), "rows_html": "".join(rows)}
    parts = {name: mark_safe(html) for name, html in parts.items()}  # noqa: S308 - ours
    return render_to_string(template, {"chart": chart, **parts})


def _column(n: int, count: int) -> tuple[float, float]:
    """Bar n's left edge and width, in percent: an equal column each, a gap either side."""
    step = 100 / max(1, count)
    return n * step + step * 0.1, step * 0.8


def _edge(n: int, count: int) -> str:
    if count <= CROWDED:
        return ""
    return "start" if n == 0 else "end" if n == count - 1 else ""


def _minor(n: int, count: int) -> bool:
    """Of many bars (a month's days), all but the first and every fifth."""
    return count > CROWDED and n != 0 and (n + 1) % 5 != 0
