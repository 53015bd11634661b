"""The API's wiring: router, pagination, CSV, errors in one shape, conditional requests."""

import datetime
import hashlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.template import loader
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date, quote_etag
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views import defaults
from django_filters import rest_framework as filters
from drf_spectacular import openapi
from rest_framework import exceptions, routers, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from opengov.middleware import last_data_change

# --- Errors: one JSON shape everywhere ------------------------------------------------------------


def _error_body(status_code: int, code: str, message: str, fields: dict | None = None) -> dict:
    error: dict[str, Any] = {"status": status_code, "code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Every API error as {"error": {status, code, message, fields?}}, fields naming the rule broken."""
    if isinstance(exc, DjangoValidationError):
        # A service refused the change: its messages name the field and the rule.
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    # An error is JSON even when the client asked for CSV: a spreadsheet row would hide it.
    request = context.get("request")
    if request is not None:
        request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = _error_body(
            response.status_code, "invalid", _("The request contains invalid values; see the fields."), detail
        )
    else:
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        response.data = _error_body(response.status_code, str(codes), str(getattr(exc, "detail", exc)))
    return response


def _json_error(request: HttpRequest, status_code: int, code: str, message: str) -> HttpResponse:
    return JsonResponse(_error_body(status_code, code, message), status=status_code)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return _json_error(request, 404, "not_found", _("Not found."))
    return defaults.page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return _json_error(request, 400, "bad_request", _("The request could not be read."))
    return defaults.bad_request(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return _json_error(request, 500, "server_error", _("An unexpected error occurred; it has been logged."))
    # The page gives the request's id, which leads the operators to its log lines (opengov/logs.py);
    # never the error itself. Rendered without the request's context, which may be what failed.
    page = loader.get_template("500.html").render({"request_id": getattr(request, "request_id", "")})
    return HttpResponseServerError(page)


# --- The schema says which errors each operation can answer -------------------------------------------

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error of the API has this shape.",
    "properties": {
        "error": {
            "type": "object",
            "description": "What went wrong.",
            "properties": {
                "status": {"type": "integer", "description": "The HTTP status."},
                "code": {"type": "string", "description": "A stable code: invalid, not_found, throttled, ..."},
                "message": {"type": "string", "description": "A sentence in the request's language."},
                "fields": {
                    "type": "object",
                    "description": "For 400: each refused field with the rules it broke.",
                    "additionalProperties": True,
                },
            },
            "required": ["status", "code", "message"],
        }
    },
    "required": ["error"],
}
ERRORS_FOR_READS = {
    "400": gettext_lazy("A filter or parameter has a value it cannot take; fields names it."),
    "404": gettext_lazy("No such object, page or format."),
    "429": gettext_lazy("Too many requests from this client; Retry-After says when to come back."),
}
ERRORS_FOR_WRITES = ERRORS_FOR_READS | {
    "401": gettext_lazy("No token, or an unknown one."),
    "403": gettext_lazy("The token's administration does not carry this commitment."),
}


class AutoSchema(openapi.AutoSchema):
    """Every field described: by its help text, else by its name as the model gives it."""

    def _get_serializer_field_meta(self, field: object, direction: str) -> dict:
        meta = super()._get_serializer_field_meta(field, direction)
        if not meta.get("description") and getattr(field, "label", None):
            meta["description"] = str(field.label)
        return meta


PAGE_FIELDS = {
    "count": gettext_lazy("Number of objects that match, on every page."),
    "next": gettext_lazy("Address of the next page; null on the last."),
    "previous": gettext_lazy("Address of the previous page; null on the first."),
    "results": gettext_lazy("The objects of this page."),
}
PAGE_LINKS = gettext_lazy(
    'Addresses of the next and previous pages (RFC 8288: rel="next", rel="prev"), in JSON as in CSV.'
)
PARAMETERS = {
    "format": gettext_lazy(
        "json (the default) or csv: one row per object, a page at a time as in JSON; the Link header gives the "
        "next page. Everything at once: /api/v1/bulk/opengov-donnees.zip."
    ),
    "id": gettext_lazy("Identifier of the object."),
    "slug": gettext_lazy("Slug of the object, as in its address on the site."),
}


def document_errors(result: dict, generator: object, request: object, public: bool) -> dict:
    """drf-spectacular hook: the JSON error answers of every operation, and the few descriptions it leaves out."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    for name, component in schemas.items():
        if name.startswith("Paginated"):
            for field, description in PAGE_FIELDS.items():
                component.get("properties", {}).get(field, {}).setdefault("description", str(description))
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            _document_page_headers(operation.get("responses", {}).get("200", {}), schemas)
            for parameter in operation.get("parameters", []):
                if parameter["name"] in PARAMETERS:
                    parameter.setdefault("description", str(PARAMETERS[parameter["name"]]))
            errors = ERRORS_FOR_READS if method == "get" else ERRORS_FOR_WRITES
            for status_code, description in errors.items():
                operation["responses"].setdefault(status_code, {"description": str(description), "content": reference})
    return result


def _document_page_headers(response: dict, schemas: dict) -> None:
    """A list's headers: the Link to the next and previous pages, and the count where the list has one."""
    reference = response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
    if "/Paginated" not in reference:
        return
    headers = response.setdefault("headers", {})
    headers["Link"] = {"description": str(PAGE_LINKS), "schema": {"type": "string"}}
    if "count" in schemas[reference.rpartition("/")[2]].get("properties", {}):
        headers["X-Total-Count"] = {"description": str(PAGE_FIELDS["count"]), "schema": {"type": "integer"}}


# --- Filters shared by the resources ---------------------------------------------------------------


def as_utc(value: datetime.datetime) -> datetime.datetime:
    """A moment in UTC. PostgreSQL refuses offsets past ±15:59 that ISO 8601 allows (a 500 otherwise), and
    a moment before year 1 in UTC is before anything recorded anyway."""
    try:
        return value.astimezone(datetime.UTC)
    except OverflowError:
        return datetime.datetime.min.replace(tzinfo=datetime.UTC)


class MomentFilter(filters.IsoDateTimeFilter):
    """An ISO 8601 moment compared in UTC (see as_utc)."""

    def filter(self, queryset: QuerySet, value: Any) -> QuerySet:
        return super().filter(queryset, as_utc(value) if value else value)


def changed_since(queryset: QuerySet, name: str, value: Any) -> QuerySet:
    """Objects with a recorded change at or after the given time (their history says so)."""
    history = queryset.model.history.model
    return queryset.filter(Exists(history.objects.filter(id=OuterRef("pk"), history_date__gte=as_utc(value))))


def strict_boolean_filter(help_text: str, **kwargs: Any) -> filters.TypedChoiceFilter:
    """true or false, and nothing else: a value that means neither is refused, not ignored."""
    return filters.TypedChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        coerce=lambda value: value == "true",
        help_text=help_text,
        **kwargs,
    )


def updated_since_filter() -> filters.IsoDateTimeFilter:
    return filters.IsoDateTimeFilter(
        method=changed_since,
        label=gettext_lazy("Only objects changed at or after this moment (ISO 8601, e.g. 2020-01-31T00:00:00Z)."),
    )


# --- Read-only public resources, with conditional requests ------------------------------------------


class PublicViewSet(viewsets.GenericViewSet):
    """Open to everyone for reading; answers a matching conditional request before building anything."""

    permission_classes = [AllowAny]
    lookup_value_regex = "[^/]+"

    def _conditional(self, request: Request, build: Callable[[], Response]) -> HttpResponse:
        changed = last_data_change()
        renderer = getattr(request, "accepted_renderer", None)
        fingerprint = (
            f"{changed.isoformat()}|{request.get_full_path()}|{renderer.format if renderer else ''}|{get_language()}"
        )
        etag = quote_etag(hashlib.sha256(fingerprint.encode()).hexdigest()[:32])
        response = get_conditional_response(request, etag=etag, last_modified=int(changed.timestamp()))
        if response is None:
            response = build()
        response["ETag"] = etag
        response["Last-Modified"] = http_date(changed.timestamp())
        patch_cache_control(response, public=True, max_age=settings.PUBLIC_CACHE_SECONDS)
        return response

    def list(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._conditional(request, lambda: self._list(request))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._conditional(request, lambda: Response(self.get_serializer(self.get_object()).data))

    def _list(self, request: Request) -> Response:
        # CSV is paginated as JSON is, with the same parameters: every row at once would cost in one request
        # what the whole list costs (seconds at the scale of every OGP member). The bulk archive has it all.
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        response = self.get_paginated_response(self.get_serializer(page, many=True).data)
        if request.accepted_renderer.format == "csv":
            response["Content-Disposition"] = f'attachment; filename="opengov-{self.basename}.csv"'
        return response


class APIRootView(routers.APIRootView):
    """The list of the API's resources, open to everyone."""

    permission_classes = [AllowAny]


class Router(routers.DefaultRouter):
    include_format_suffixes = False
    APIRootView = APIRootView


def build_router() -> Router:
    from commitments import api as commitments_api
    from forums import api as forums_api
    from indicators import api as indicators_api

    router = Router()
    for module in (commitments_api, indicators_api, forums_api):
        for prefix, viewset, basename in module.ROUTES:
            router.register(prefix, viewset, basename=basename)
    return router
