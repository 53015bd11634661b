from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers

from commitments.models import Commitment
from commitments.serializers import commitment_key, commitment_key_filter
from forums.models import Forum
from opengov.api import PublicViewSet, updated_since_filter


class ForumSerializer(serializers.ModelSerializer):
    commitments = serializers.SerializerMethodField(help_text=_("Keys of the commitments discussed."))

    class Meta:
        model = Forum
        fields = [
            "id",
            "number",
            "title",
            "date",
            "start_time",
            "end_time",
            "place",
            "theme",
            "organisers",
            "commitments",
            "report_url",
            "registration_url",
            "is_verified",
            "source_note",
            "sources",
        ]

    @extend_schema_field({"type": "array", "items": {"type": "string"}})
    def get_commitments(self, forum: Forum) -> list[str]:
        return [commitment_key(commitment) for commitment in forum.commitments.all()]


class ForumFilter(filters.FilterSet):
    date = filters.DateFromToRangeFilter(help_text=_("Forums held between date_after and date_before (inclusive)."))
    commitment = filters.CharFilter(method="filter_commitment", help_text=_("Key of a commitment discussed."))
    updated_since = updated_since_filter()

    class Meta:
        model = Forum
        fields = ["date", "commitment", "updated_since"]

    def filter_commitment(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        lookup = commitment_key_filter(value, "commitments__")
        return queryset.none() if lookup is None else queryset.filter(lookup).distinct()


@extend_schema_view(
    list=extend_schema(summary=_("List the forums"), description=_("The Open d'État forums, latest first.")),
    retrieve=extend_schema(summary=_("One forum"), description=_("A forum, by its identifier.")),
)
class ForumViewSet(PublicViewSet):
    """The "Open d'État" forums where civil society questions the administrations."""

    serializer_class = ForumSerializer
    filterset_class = ForumFilter
    ordering_fields = ["date", "number"]
    ordering = ["-date"]

    def get_queryset(self) -> QuerySet:
        return Forum.objects.prefetch_related(
            Prefetch("commitments", queryset=Commitment.objects.select_related("plan"))
        )


ROUTES = [("forums", ForumViewSet, "forum")]
