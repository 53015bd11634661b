import csv

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _

from indicators.charts import value_chart
from indicators.models import Indicator
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


def indicator_detail(request: HttpRequest, plan: str, number: int, pk: int) -> HttpResponse:
    indicator = _indicator(plan, number, pk)
    values = list(indicator.values.order_by("date"))
    commitment = indicator.commitment
    context = {
        "indicator": indicator,
        "commitment": commitment,
        "values": values,
        "latest": values[-1] if values else None,
        "source_detail": describe_reading(indicator),
        "chart": value_chart(
            values=[(v.date, v.value) for v in values],
            baseline=indicator.baseline_value,
            target=indicator.target_value,
        ),
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
    for value in indicator.values.order_by("date"):
        # Figures are written as plain numbers (a dot for decimals), so that a negative one stays a number.
        writer.writerow(
            [value.date.isoformat(), f"{value.value.normalize():f}", indicator.unit, value.origin, csv_text(value.note)]
        )
    return response
