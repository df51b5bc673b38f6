"""Bar charts drawn on the server as SVG: no JavaScript, no CDN, readable without colour."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class BarChart:
    title: str
    bars: list[Bar]
    width: int
    height: int
    top: str  # the largest value, as text, for the axis

    @property
    def empty(self) -> bool:
        return not any(bar.value for bar in self.bars)


def bar_chart(title: str, points, *, money: bool = False, height: int = 160) -> BarChart:
    """`points` are (label, value) pairs; bars are scaled to the largest value."""
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
        bars.append(Bar(label=str(label), value=float(value), text=fmt(value),
                        x=n * step + 2, y=plot - h + 4, width=step - 4, height=h))  # fmt: skip
    return BarChart(title=title, bars=bars, width=width, height=height, top=fmt(largest))
