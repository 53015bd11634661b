from django.db.models import BooleanField, Exists, OuterRef, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from commitments.models import Carrier
from commitments.permissions import can_edit_commitment
from commitments.serializers import commitment_columns, commitment_key_filter
from indicators import services
from indicators.models import Indicator, IndicatorValue, IndicatorValueOrigin
from indicators.serializers import (
    CorrectionSerializer,
    IndicatorSerializer,
    IndicatorValueSerializer,
    NewValueSerializer,
)
from opengov.api import MomentFilter, PublicViewSet, updated_since_filter
from opengov.api_output import CursorPagination


class IndicatorFilter(filters.FilterSet):
    plan = filters.CharFilter(field_name="commitment__plan__slug", help_text=_("Slug of the plan."))
    administration = filters.CharFilter(
        method="filter_administration", help_text=_("Slug of an administration carrying the commitment.")
    )
    updated_since = updated_since_filter()

    class Meta:
        model = Indicator
        fields = ["plan", "administration", "updated_since"]

    def filter_administration(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # EXISTS rather than a join made DISTINCT, which would sort every match to drop the duplicates.
        carriers = Carrier.objects.filter(commitment=OuterRef("commitment"), administration__slug=value)
        return queryset.filter(Exists(carriers))


class ValueFilter(filters.FilterSet):
    indicator = filters.NumberFilter(help_text=_("Identifier of the indicator."))
    commitment = filters.CharFilter(method="filter_commitment", help_text=_("Key of the commitment."))
    plan = filters.CharFilter(method="filter_plan", help_text=_("Slug of the plan."))
    date = filters.DateFromToRangeFilter(help_text=_("Values dated between date_after and date_before (inclusive)."))
    updated_since = MomentFilter(
        field_name="recorded_at", lookup_expr="gte", help_text=_("Values recorded at or after this moment (ISO 8601).")
    )

    class Meta:
        model = IndicatorValue
        fields = ["indicator", "commitment", "plan", "date", "updated_since"]

    # Through the plan's or the commitment's indicators, a subquery, rather than joins: PostgreSQL would walk every
    # indicator in the cursor's order to find those of a plan at the end of the list (47 ms at the OGP scale).
    def filter_commitment(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        lookup = commitment_key_filter(value, "commitment__")
        if lookup is None:
            return queryset.none()
        return queryset.filter(indicator__in=Indicator.objects.filter(lookup).order_by())

    def filter_plan(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(indicator__in=Indicator.objects.filter(commitment__plan__slug=value).order_by())


def _public_indicator(pk: str) -> Indicator:
    return get_object_or_404(Indicator.objects.public().select_related("commitment__plan"), pk=pk)


@extend_schema_view(
    list=extend_schema(summary=_("List the indicators"), description=_("Public indicators with their latest value.")),
    retrieve=extend_schema(summary=_("One indicator"), description=_("An indicator, by its identifier.")),
)
class IndicatorViewSet(PublicViewSet):
    """Indicators: the figures by which commitments are measured."""

    serializer_class = IndicatorSerializer
    filterset_class = IndicatorFilter
    ordering_fields = ["name", "id"]
    ordering = ["id"]

    def get_queryset(self) -> QuerySet:
        return Indicator.objects.public().with_latest_value().annotate(**commitment_columns("commitment"))

    @extend_schema(
        methods=["get"],
        summary=_("Values of an indicator"),
        description=_("Every value of the indicator, oldest first."),
        responses={200: IndicatorValueSerializer(many=True)},
    )
    @extend_schema(
        methods=["post"],
        summary=_("Record a value"),
        description=_(
            "For an administration's token, on a commitment it carries (or a coordinator's). "
            "A date that already has a value must be corrected instead."
        ),
        request=NewValueSerializer,
        responses={201: IndicatorValueSerializer},
    )
    @action(detail=True, methods=["get", "post"], url_path="values", filterset_class=None, pagination_class=None)
    def values(self, request: Request, pk: str | None = None) -> Response:
        if request.method == "GET":
            return self._conditional(
                request,
                lambda: Response(
                    IndicatorValueSerializer(_public_indicator(pk).values.order_by("date"), many=True).data
                ),
            )
        if not request.user.is_authenticated:
            raise exceptions.NotAuthenticated()
        indicator = get_object_or_404(Indicator.objects.select_related("commitment__plan"), pk=pk)
        if not can_edit_commitment(request.user, indicator.commitment):
            raise exceptions.PermissionDenied(_("Your administration does not carry this commitment."))
        payload = NewValueSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        value = services.record_value(
            indicator=indicator, origin=IndicatorValueOrigin.MANUAL, by=request.user, **payload.validated_data
        )
        return Response(IndicatorValueSerializer(value).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(
        summary=_("List the indicator values"),
        description=_(
            "Values of every public indicator, by indicator then date. Millions of them: the pages follow a "
            "cursor (next and previous give the addresses) and give no count."
        ),
    ),
    retrieve=extend_schema(summary=_("One value"), description=_("A value, by its identifier.")),
)
class IndicatorValueViewSet(PublicViewSet):
    """Dated values of the indicators."""

    serializer_class = IndicatorValueSerializer
    filterset_class = ValueFilter
    filter_backends = [filters.DjangoFilterBackend]  # no ordering parameter: the cursor's order is fixed
    pagination_class = CursorPagination
    # The cursor's key: unique, and the index of the one-value-a-date constraint holds it in this order.
    ordering = ["indicator_id", "date"]

    def get_queryset(self) -> QuerySet:
        # Whether the indicator is public is read for each value rather than joined: from a page deep in the
        # list, PostgreSQL would otherwise merge the indicators from the first one in order to reach it.
        is_public = Indicator.objects.filter(pk=OuterRef("indicator_id")).order_by().values("is_public")
        return IndicatorValue.objects.filter(Subquery(is_public, output_field=BooleanField()))

    @extend_schema(
        summary=_("Correct a value"),
        description=_("Replaces the value; the reason is required and public, and the history keeps the old value."),
        request=CorrectionSerializer,
        responses={200: IndicatorValueSerializer},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def correct(self, request: Request, pk: str | None = None) -> Response:
        value = get_object_or_404(IndicatorValue.objects.select_related("indicator__commitment"), pk=pk)
        if not can_edit_commitment(request.user, value.indicator.commitment):
            raise exceptions.PermissionDenied(_("Your administration does not carry this commitment."))
        payload = CorrectionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        corrected = services.correct_value(indicator_value=value, by=request.user, **payload.validated_data)
        return Response(IndicatorValueSerializer(corrected).data)


ROUTES = [
    ("indicators", IndicatorViewSet, "indicator"),
    ("indicator-values", IndicatorValueViewSet, "indicator-value"),
]
