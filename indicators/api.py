from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from commitments.permissions import can_edit_commitment
from indicators import services
from indicators.models import Indicator, IndicatorValue, IndicatorValueOrigin
from indicators.serializers import (
    CorrectionSerializer,
    IndicatorSerializer,
    IndicatorValueSerializer,
    NewValueSerializer,
)
from opengov.api import MomentFilter, PublicViewSet, updated_since_filter


class IndicatorFilter(filters.FilterSet):
    plan = filters.CharFilter(field_name="commitment__plan__slug", help_text=_("Slug of the plan."))
    administration = filters.CharFilter(
        field_name="commitment__carriers__administration__slug",
        distinct=True,
        help_text=_("Slug of an administration carrying the commitment."),
    )
    updated_since = updated_since_filter()

    class Meta:
        model = Indicator
        fields = ["plan", "administration", "updated_since"]


class ValueFilter(filters.FilterSet):
    indicator = filters.NumberFilter(help_text=_("Identifier of the indicator."))
    plan = filters.CharFilter(field_name="indicator__commitment__plan__slug", help_text=_("Slug of the plan."))
    date = filters.DateFromToRangeFilter(help_text=_("Values dated between date_after and date_before (inclusive)."))
    updated_since = MomentFilter(
        field_name="recorded_at", lookup_expr="gte", help_text=_("Values recorded at or after this moment (ISO 8601).")
    )

    class Meta:
        model = IndicatorValue
        fields = ["indicator", "plan", "date", "updated_since"]


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
        return Indicator.objects.public().with_latest_value().select_related("commitment__plan")

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
    list=extend_schema(summary=_("List the indicator values"), description=_("Values of every public indicator.")),
    retrieve=extend_schema(summary=_("One value"), description=_("A value, by its identifier.")),
)
class IndicatorValueViewSet(PublicViewSet):
    """Dated values of the indicators."""

    serializer_class = IndicatorValueSerializer
    filterset_class = ValueFilter
    ordering_fields = ["date", "recorded_at"]
    ordering = ["indicator_id", "date"]

    def get_queryset(self) -> QuerySet:
        return IndicatorValue.objects.filter(indicator__is_public=True)

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
