"""How the API writes its answers: pages of results, and CSV for spreadsheets.

Kept apart from opengov/api.py because the REST framework settings name these classes, and
they must import without the rest of the framework.
"""

import csv
import io
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy
from rest_framework import pagination, renderers

# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class Pagination(pagination.PageNumberPagination):
    page_size = settings.API_PAGE_SIZE
    max_page_size = settings.API_MAX_PAGE_SIZE
    page_size_query_param = "page_size"
    page_size_query_description = gettext_lazy("Number of results per page (at most %(max)s).") % {
        "max": settings.API_MAX_PAGE_SIZE
    }


def _flatten(prefix: str, value: Any, row: dict) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}.{key}" if prefix else key, item, row)
    elif isinstance(value, list):
        row[prefix] = "; ".join(
            "|".join(str(v) for v in item.values()) if isinstance(item, dict) else str(item) for item in value
        )
    else:
        row[prefix] = value


def csv_cell(value: Any) -> Any:
    """A value for a CSV cell: numbers stay numbers, text that a spreadsheet would run is neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"  # 12345.6, not 12345.6000 nor 1.23456E+4
    if isinstance(value, int | float):
        return value
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class CSVRenderer(renderers.BaseRenderer):
    """One row per object, a header row, UTF-8; nested values flattened to dotted columns."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: dict | None = None) -> bytes:
        if isinstance(data, dict) and "results" in data:
            data = data["results"]
        rows_in: Iterable[Any] = data if isinstance(data, list) else [data]
        rows: list[dict] = []
        for item in rows_in:
            row: dict = {}
            _flatten("", item, row)
            rows.append(row)
        columns = list(dict.fromkeys(column for row in rows for column in row))
        output = io.StringIO()
        writer = csv.writer(output)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([csv_cell(row.get(column)) for column in columns])
        return output.getvalue().encode("utf-8")
