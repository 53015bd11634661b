"""How the API writes its answers: pages of results, and CSV for spreadsheets.

Kept apart from opengov/api.py because the REST framework settings name these classes, and
they must import without the rest of the framework.
"""

import base64
import binascii
import csv
import datetime
import io
import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, fields, pagination, renderers
from rest_framework.relations import PKOnlyObject
from rest_framework.response import Response
from rest_framework.settings import ISO_8601, api_settings
from rest_framework.utils.urls import remove_query_param, replace_query_param

if TYPE_CHECKING:  # rest_framework.views reads the settings that name this module's classes
    from rest_framework.request import Request
    from rest_framework.views import APIView

# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


PAGE_SIZE_DESCRIPTION = gettext_lazy("Number of results per page (at most %(max)s).") % {
    "max": settings.API_MAX_PAGE_SIZE
}

CURSOR_DESCRIPTION = gettext_lazy("Where the page starts: copy it from the next or previous address, never build it.")


def with_links(response: Response, *, next_url: str | None, previous_url: str | None) -> Response:
    """The addresses of the next and previous pages in a Link header (RFC 8288): a CSV answer has no body to
    carry them, and a JSON one gets them too, so that one client reads both alike."""
    links = [f'<{url}>; rel="{rel}"' for rel, url in (("next", next_url), ("prev", previous_url)) if url]
    if links:
        response["Link"] = ", ".join(links)
    return response


KEYS = ("pk", "-pk", "id", "-id")


def total_order(ordering: Sequence[str]) -> list[str]:
    """The ordering, with the key after it unless it holds one: rows that tie on the rest (a client's
    ordering=answered_at, where most are not answered) come in the same order every time, so that a row is on
    one page only and two archives of the same data list them alike."""
    return list(ordering) if set(KEYS) & set(ordering) else [*ordering, "pk"]


class KeysFirstPaginator(Paginator):
    """Finds a page's rows by their keys alone, counted from whichever end of the list is nearer, then reads those
    rows in full.

    The rows before a deep page (its OFFSET) are then skipped in an index, rather than joined and annotated one
    by one: the last page of the indicators, each with its latest value, took 1.6 s at the OGP scale. Read from the
    far end, the last page skips nothing: the last page of the commitments, ordered by their plan's slug, sorted
    every commitment (19 ms) rather than reading 50 of them from the end of two indexes. Only when the order ends
    with a unique key (Pagination adds it), so that it is total and reads the same rows both ways."""

    # Whether count is the length of the list, so that its end is known (not so for a count that stops at a limit).
    counts_every_row = True

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        if bottom == 0 or not isinstance(self.object_list, QuerySet) or self.object_list.query.distinct:
            return super().page(number)
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        keys = self.object_list.prefetch_related(None).values("pk")
        ordering = self.object_list.query.order_by
        if self.counts_every_row and self.count - top < bottom and ordering and ordering[-1] in KEYS:
            keys = keys.reverse()[self.count - top : self.count - bottom]
        else:
            keys = keys[bottom:top]
        return self._get_page(self.object_list.filter(pk__in=keys), number, self)


class Pagination(pagination.PageNumberPagination):
    """Numbered pages with the exact count: for the lists whose length is bounded by what people write."""

    django_paginator_class = KeysFirstPaginator
    page_size = settings.API_PAGE_SIZE
    max_page_size = settings.API_MAX_PAGE_SIZE
    page_size_query_param = "page_size"
    page_size_query_description = PAGE_SIZE_DESCRIPTION

    def paginate_queryset(self, queryset: QuerySet, request: "Request", view: "APIView | None" = None) -> list | None:
        ordering = queryset.query.order_by if isinstance(queryset, QuerySet) else ()
        if ordering:
            queryset = queryset.order_by(*total_order(ordering))
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data: Any) -> Response:
        response = super().get_paginated_response(data)
        response["X-Total-Count"] = str(self.page.paginator.count)
        return with_links(response, next_url=self.get_next_link(), previous_url=self.get_previous_link())


class CursorPagination(pagination.BasePagination):
    """Pages that continue after the last row seen, for a list of millions of rows (the indicator values).

    The view's `ordering` is a unique key, every field ascending, with an index in that order: each page is one
    range of that index from the cursor, as cheap deep in the list as on its first page. There is no count
    (it would read every row) nor page number (an offset reads every row it skips). Unlike DRF's
    CursorPagination, which places the cursor by the first field alone and counts rows past it, the cursor
    holds the whole key.
    """

    page_size = settings.API_PAGE_SIZE
    max_page_size = settings.API_MAX_PAGE_SIZE
    page_size_query_param = "page_size"
    cursor_query_param = "cursor"

    def paginate_queryset(self, queryset: QuerySet, request: "Request", view: "APIView | None" = None) -> list:
        self.base_url = request.build_absolute_uri()
        self.page_size = self.get_page_size(request)
        self.key = tuple(view.ordering)
        position, backwards = self.decode_cursor(request, queryset.model)
        if position is not None:
            queryset = queryset.filter(beyond(self.key, position, backwards=backwards))
        ordering = [f"-{name}" for name in self.key] if backwards else self.key
        rows = list(queryset.order_by(*ordering)[: self.page_size + 1])
        more = len(rows) > self.page_size
        self.page = rows[: self.page_size]
        if backwards:
            self.page.reverse()
        # A cursor points between two rows: there is something on its other side, where the client came from.
        self.has_next = position is not None if backwards else more
        self.has_previous = more if backwards else position is not None
        return self.page

    def get_page_size(self, request: "Request") -> int:
        """As PageNumberPagination reads it: at most the maximum, the default for anything but a positive number."""
        try:
            size = int(request.query_params[self.page_size_query_param])
        except (KeyError, ValueError):
            return self.page_size
        return min(size, self.max_page_size) if size > 0 else self.page_size

    def _position(self, row: Any) -> list:
        return [getattr(row, name) for name in self.key]

    def encode_cursor(self, position: Sequence, *, backwards: bool) -> str:
        token = json.dumps({"before" if backwards else "after": [str(value) for value in position]})
        cursor = base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")  # no %3D in the address
        return replace_query_param(self.base_url, self.cursor_query_param, cursor)

    def decode_cursor(self, request: "Request", model: type) -> tuple[list | None, bool]:
        cursor = request.query_params.get(self.cursor_query_param)
        if cursor is None:
            return None, False
        try:
            token = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)))
            ((direction, texts),) = token.items()
            if direction not in ("after", "before") or not isinstance(texts, list):
                raise ValueError(cursor)
            fields = [model._meta.get_field(name) for name in self.key]
            position = [field.to_python(text) for field, text in zip(fields, texts, strict=True)]
        except (AttributeError, TypeError, ValueError, UnicodeError, binascii.Error, ValidationError) as error:
            raise exceptions.NotFound(pagination.CursorPagination.invalid_cursor_message) from error
        return position, direction == "before"

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        if not self.page:  # nothing before the cursor: the list starts after it
            return remove_query_param(self.base_url, self.cursor_query_param)
        return self.encode_cursor(self._position(self.page[-1]), backwards=False)

    def get_previous_link(self) -> str | None:
        if not self.has_previous or not self.page:
            return None
        return self.encode_cursor(self._position(self.page[0]), backwards=True)

    def get_paginated_response(self, data: Any) -> Response:
        next_url, previous_url = self.get_next_link(), self.get_previous_link()
        response = Response({"next": next_url, "previous": previous_url, "results": data})
        return with_links(response, next_url=next_url, previous_url=previous_url)

    def get_paginated_response_schema(self, schema: dict) -> dict:
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {"next": link, "previous": dict(link), "results": schema},
        }

    def get_schema_operation_parameters(self, view: "APIView") -> list[dict]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": str(CURSOR_DESCRIPTION),
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": str(PAGE_SIZE_DESCRIPTION),
                "schema": {"type": "integer"},
            },
        ]


def beyond(key: Sequence[str], position: Sequence, *, backwards: bool = False) -> Q:
    """Rows after `position` in the order of `key` (before it, backwards): (a, b) > (x, y) spelled out as
    a > x OR (a = x AND b > y), with a >= x besides, which lets the database start the index range there."""
    lookup = "lt" if backwards else "gt"
    condition = Q(**{f"{key[-1]}__{lookup}": position[-1]})
    for name, value in zip(reversed(key[:-1]), reversed(position[:-1]), strict=True):
        condition = Q(**{f"{name}__{lookup}": value}) | Q(**{name: value}) & condition
    return Q(**{f"{key[0]}__{lookup}e": position[0]}) & condition


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


# --- Rows written without the framework's steps for each field ------------------------------------------


def _same(value: Any) -> Any:
    return value


def _of_type(kind: type | tuple[type, ...], write: Any, field: Any) -> Any:
    """`write` for the values of `kind`, which is what the database gives; the field's own writing for any other
    (a string in a date field, an Enum in a choice field...), so that the answer stays the framework's."""
    return lambda value: write(value) if isinstance(value, kind) else field.to_representation(value)


def _choice(field: Any) -> Any:
    values = field.choice_strings_to_values
    return _of_type(str, lambda value: value if value == "" else values.get(value, value), field)


def _plain_writer(field: Any) -> Any:
    """How `field` writes a value that is not None, when that is a plain conversion; None when it is not (a related
    object, a nested serializer, a moment, a decimal, or any field that changes how it reads or writes)."""
    if field.get_attribute.__func__ is not fields.Field.get_attribute or len(field.source_attrs) != 1:
        return None
    writes = type(field).to_representation
    if writes is fields.CharField.to_representation:
        return str
    if writes is fields.ReadOnlyField.to_representation:
        return _same
    if writes is fields.IntegerField.to_representation:
        return int
    if writes is fields.BooleanField.to_representation:
        return _of_type(bool, _same, field)
    if writes is fields.JSONField.to_representation and not field.binary:
        return _same
    if writes is fields.ChoiceField.to_representation:
        return _choice(field)
    if writes is fields.DateField.to_representation and getattr(field, "format", api_settings.DATE_FORMAT) == ISO_8601:
        # A date field refuses a moment: datetime is a date, and goes to the field.
        return lambda value: value.isoformat() if type(value) is datetime.date else field.to_representation(value)
    if writes is fields.TimeField.to_representation and getattr(field, "format", api_settings.TIME_FORMAT) == ISO_8601:
        return _of_type(datetime.time, datetime.time.isoformat, field)
    return None


class QuickRows:
    """A serializer mixin: writes a row as the REST framework does, but the fields whose value is an attribute
    written by a plain conversion (text, numbers, booleans, dates, JSON, choices) and the method fields skip the
    framework's steps for each field: its attribute lookup, its checks and its dispatch cost a list of 50 rows
    4 to 8 ms at the OGP scale (issue 9). Every other field is written by the framework. The answers are the same:
    tests/api/test_quick_rows.py compares every list and detail of the API with the framework's own writing."""

    def to_representation(self, instance: Any) -> dict:
        row = {}
        for name, attribute, write, field in self._quick_plan():
            if write is not None:
                value = getattr(instance, attribute, _MISSING) if attribute is not None else instance
                if value is None:
                    row[name] = None
                    continue
                if value is not _MISSING and not callable(value):
                    row[name] = write(value)
                    continue
            # As Serializer.to_representation writes a field.
            try:
                value = field.get_attribute(instance)
            except fields.SkipField:
                continue
            checked = value.pk if isinstance(value, PKOnlyObject) else value
            row[name] = None if checked is None else field.to_representation(value)
        return row

    def _quick_plan(self) -> list[tuple[str, str | None, Any, Any]]:
        """For each readable field: its name, the attribute it reads (None: the object itself), how it is written
        when that is plain (None: by the framework), and the field. Worked out once per serializer, which a list's
        rows share."""
        if "_quick" not in self.__dict__:
            plan = []
            for field in self._readable_fields:
                if type(field).to_representation is fields.SerializerMethodField.to_representation:
                    plan.append((field.field_name, None, getattr(self, field.method_name), field))
                else:
                    attribute = field.source_attrs[0] if field.source_attrs else None
                    plan.append((field.field_name, attribute, _plain_writer(field), field))
            self._quick = plan
        return self._quick


_MISSING = object()
