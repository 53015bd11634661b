import csv

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _

from commitments.cards import text
from commitments.templatetags.opengov import day, figure
from indicators.charts import Chart, value_chart
from indicators.models import Indicator, IndicatorValueOrigin
from indicators.sources import describe_reading
from opengov.api_output import FORMULA_STARTS


def csv_text(value: str) -> str:
    """Text for a CSV cell, neutralised so that a spreadsheet shows it rather than runs it."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _indicator(plan: str, number: int, pk: int) -> Indicator:
    return get_object_or_404(
        Indicator.objects.public().select_related("commitment__plan"),
        pk=pk,
        commitment__plan__slug=plan,
        commitment__number=number,
    )


_LINE = '<polyline class="og-chart__line" points="{}"/>'
_DOT = '<circle class="og-chart__point" cx="{}" cy="{}" r="4"/>'
_ROW = "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"


def _chart_marks(chart: Chart | None) -> tuple[SafeString, SafeString]:
    """The chart's lines and dots as SVG elements: written here rather than by the template, which spent tens of
    microseconds on each of an indicator's values (issue 9), and an indicator read daily for years has thousands
    (docs/adr/0008-rows-written-in-python.md). Coordinates are numbers computed by the chart: nothing to escape."""
    if chart is None:
        return mark_safe(""), mark_safe("")
    lines = "".join(_LINE.format("".join(f"{x},{y} " for x, y in segment)) for segment in chart.segments)
    dots = "".join(_DOT.format(x, y) for x, y in chart.points)
    return mark_safe(lines), mark_safe(dots)


def _table_rows(values: list, origins: dict[str, str]) -> SafeString:
    """The table's rows, each cell escaped (a note is anyone's text), for the same reason as the chart's marks."""
    rows = (
        _ROW.format(text(day(v.date)), text(figure(v.value)), text(origins.get(v.origin, v.origin)), text(v.note))
        for v in values
    )
    return mark_safe("\n".join(rows))


def indicator_detail(request: HttpRequest, plan: str, number: int, pk: int) -> HttpResponse:
    indicator = _indicator(plan, number, pk)
    # Rows, not model instances: an indicator read daily for years has thousands of values.
    values = list(indicator.values.order_by("date").values_list("date", "value", "origin", "note", named=True))
    commitment = indicator.commitment
    chart = value_chart(
        values=[(v.date, v.value) for v in values],
        baseline=indicator.baseline_value,
        target=indicator.target_value,
    )
    lines, dots = _chart_marks(chart)
    # The table's rows too, for the same reason; each origin's label is translated once.
    origins = {origin: str(label) for origin, label in IndicatorValueOrigin.choices}
    context = {
        "indicator": indicator,
        "commitment": commitment,
        "values": values,
        "rows": _table_rows(values, origins),
        "latest": values[-1] if values else None,
        "source_detail": describe_reading(indicator),
        "chart": chart,
        "dots": dots,
        "lines": lines,
        "breadcrumbs": [
            (_("Home"), reverse("commitments:home")),
            (commitment.plan.title, commitment.plan.get_absolute_url()),
            (_("Commitment %(number)s") % {"number": commitment.number}, commitment.get_absolute_url()),
            (indicator.name, ""),
        ],
    }
    return render(request, "indicators/indicator_detail.html", context)


def indicator_csv(request: HttpRequest, plan: str, number: int, pk: int) -> HttpResponse:
    indicator = _indicator(plan, number, pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"indicateur-{indicator.pk}-{slugify(indicator.name)[:60]}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(["date", "value", "unit", "origin", "note"])
    # Rows, not model instances, as on the indicator's page.
    for date, value, origin, note in indicator.values.order_by("date").values_list("date", "value", "origin", "note"):
        # Figures are written as plain numbers (a dot for decimals), so that a negative one stays a number.
        writer.writerow([date.isoformat(), f"{value.normalize():f}", indicator.unit, origin, csv_text(note)])
    return response
