from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from commitments.serializers import LINKS_SCHEMA, LinksField, SiteLinks, key_of, plan_is_synthetic_field
from indicators.models import Indicator, IndicatorValue
from opengov.api_output import QuickRows


class IndicatorSerializer(QuickRows, serializers.ModelSerializer, SiteLinks):
    # Reads the annotations of commitment_columns("commitment") (not a docstring: the schema would show it).
    commitment = serializers.SerializerMethodField(help_text=_("Key of the commitment."))
    plan_is_synthetic = plan_is_synthetic_field()
    latest_value = serializers.DecimalField(
        max_digits=20, decimal_places=4, read_only=True, allow_null=True, help_text=_("The most recent value.")
    )
    latest_value_date = serializers.DateField(read_only=True, allow_null=True, help_text=_("Its date."))
    is_failing = serializers.BooleanField(
        read_only=True, help_text=_("Its source failed at its last readings; the latest good value stands.")
    )
    links = LinksField()

    class Meta:
        model = Indicator
        fields = [
            "id",
            "commitment",
            "plan_is_synthetic",
            "name",
            "unit",
            "description",
            "baseline_value",
            "baseline_date",
            "target_value",
            "target_date",
            "direction",
            "source_format",
            "source_url",
            "source_selector",
            "refresh_interval",
            "last_read_at",
            "last_refresh_at",
            "last_refresh_outcome",
            "is_failing",
            "latest_value",
            "latest_value_date",
            "links",
        ]

    def get_commitment(self, indicator: Indicator) -> str:
        return key_of(indicator.commitment_plan_slug, indicator.commitment_number)

    @extend_schema_field(LINKS_SCHEMA)
    def get_links(self, indicator: Indicator) -> dict:
        site_args = [indicator.commitment_plan_slug, indicator.commitment_number, indicator.pk]
        return self._links("indicator-detail", [indicator.pk], "indicators:detail", site_args)


class IndicatorValueSerializer(QuickRows, serializers.ModelSerializer):
    indicator = serializers.PrimaryKeyRelatedField(read_only=True, help_text=_("Identifier of the indicator."))

    class Meta:
        model = IndicatorValue
        fields = ["id", "indicator", "date", "value", "origin", "note", "recorded_at"]
        read_only_fields = ["origin", "recorded_at"]


class NewValueSerializer(serializers.Serializer):
    date = serializers.DateField(help_text=_("The day the figure describes (not in the future)."))
    value = serializers.DecimalField(max_digits=20, decimal_places=4, help_text=_("The figure."))
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, help_text=_("A public note."))


class CorrectionSerializer(serializers.Serializer):
    value = serializers.DecimalField(max_digits=20, decimal_places=4, help_text=_("The corrected figure."))
    reason = serializers.CharField(max_length=2000, help_text=_("Why the value changes; required and public."))
