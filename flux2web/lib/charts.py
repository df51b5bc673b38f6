"""Bar charts drawn on the server as SVG: no JavaScript, no CDN, readable without colour."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

TONES = 6  # distinct bar colours in app.css (.tone-0 to .tone-5), reused beyond six


@dataclass(frozen=True)
class Segment:
    """One series' part of a stacked bar."""

    series: str
    text: str
    y: float
    height: float
    tone: int


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str
    x: float
    y: float
    width: float
    height: float
    tone: int = 0
    segments: tuple[Segment, ...] = ()


@dataclass(frozen=True)
class LegendItem:
    label: str
    text: str
    tone: int


@dataclass(frozen=True)
class BarChart:
    title: str
    bars: list[Bar]
    width: int
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
    # Bars share a 480-unit width (12 to 60 units each); the SVG scales, text undistorted.
    step = max(12, min(60, 480 // max(1, len(points))))
    width = max(480, step * len(points))
    plot = height - 34  # room for labels under the bars
    largest = max((float(v) for _, v in points), default=0) or 1

    def fmt(value) -> str:
        return f"${Decimal(str(value)):,.2f}" if money else f"{value:g}"

    bars = []
    for n, (label, value) in enumerate(points):
        h = float(value) / largest * plot
        bars.append(
            Bar(
                label=str(label),
                value=float(value),
                text=fmt(value),
                x=n * step + 2,
                y=plot - h + 4,
                width=step - 4,
                height=h,
                tone=n % TONES if toned else 0,
            )
        )
    legend = tuple(LegendItem(b.label, b.text, b.tone) for b in bars) if toned else ()
    return BarChart(
        title=title,
        bars=bars,
        width=width,
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
    step = max(12, min(60, 480 // max(1, len(points))))
    width = max(480, step * len(points))
    plot = height - 34
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
        bars.append(
            Bar(
                label=str(label),
                value=total,
                text=fmt(total),
                x=n * step + 2,
                y=bottom,
                width=step - 4,
                height=plot + 4 - bottom,
                segments=tuple(segments),
            )
        )
    totals = {name: sum(parts.get(name, 0) for _, parts in points) for name in names}
    legend = tuple(LegendItem(name, fmt(totals[name]), tone[name]) for name in names)
    return BarChart(
        title=title, bars=bars, width=width, height=height, top=fmt(largest), legend=legend
    )
