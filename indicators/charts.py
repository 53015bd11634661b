"""The chart of an indicator's values, drawn on the server as SVG so that it needs no script.

Consecutive values are joined by a line, except across a gap (more than twice the usual interval
between readings): the chart never draws what was not measured.
"""

import datetime
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from statistics import median

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 72, 24, 16, 40


@dataclass
class Chart:
    points: list[tuple[float, float]] = field(default_factory=list)
    segments: list[list[tuple[float, float]]] = field(default_factory=list)
    y_ticks: list[tuple[float, Decimal]] = field(default_factory=list)
    x_ticks: list[tuple[float, int]] = field(default_factory=list)
    baseline_y: float | None = None
    target_y: float | None = None
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    bottom_edge: int = HEIGHT - BOTTOM


def _nice_ticks(low: Decimal, high: Decimal, count: int = 4) -> list[Decimal]:
    if high == low:
        return [low]
    raw = (high - low) / count
    magnitude = Decimal(10) ** raw.adjusted()
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = (low / step).to_integral_value(rounding="ROUND_FLOOR") * step
    ticks, tick = [], first
    while tick <= high + step / 2:
        if tick >= low - step / 2:
            ticks.append(tick)
        tick += step
    return ticks


def value_chart(
    *,
    values: list[tuple[datetime.date, Decimal]],
    baseline: Decimal | None,
    target: Decimal | None,
) -> Chart | None:
    """Geometry of the chart, or None without any value."""
    if not values:
        return None
    dates = [date for date, _ in values]
    figures = [value for _, value in values] + [v for v in (baseline, target) if v is not None]
    ticks = _nice_ticks(min(figures), max(figures))
    low, high = min(ticks[0], min(figures)), max(ticks[-1], max(figures))
    if high == low:
        low, high = low - 1, high + 1
    first, last = min(dates), max(dates)
    span = max((last - first).days, 1)

    def x(date: datetime.date) -> float:
        if first == last:
            return (LEFT + WIDTH - RIGHT) / 2
        return round(LEFT + (date - first).days / span * (WIDTH - LEFT - RIGHT), 1)

    def y(value: Decimal) -> float:
        return round(TOP + float((high - value) / (high - low)) * (HEIGHT - TOP - BOTTOM), 1)

    chart = Chart(
        points=[(x(date), y(value)) for date, value in values],
        y_ticks=[(y(tick), tick) for tick in ticks if low <= tick <= high],
        x_ticks=[
            (x(datetime.date(year, 1, 1)), year)
            for year in range(first.year, last.year + 1)
            if first <= datetime.date(year, 1, 1) <= last
        ],
        baseline_y=y(baseline) if baseline is not None else None,
        target_y=y(target) if target is not None else None,
    )
    intervals = [(b - a).days for a, b in itertools.pairwise(dates)]
    usual = median(intervals) if len(intervals) >= 2 else None
    segment = [chart.points[0]]
    for interval, point in zip(intervals, chart.points[1:], strict=False):
        if usual is not None and interval > 2 * usual:
            chart.segments.append(segment)
            segment = []
        segment.append(point)
    chart.segments.append(segment)
    chart.segments = [s for s in chart.segments if len(s) > 1]
    return chart
