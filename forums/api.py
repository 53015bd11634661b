import datetime
from collections.abc import Iterable

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.manager import BaseManager
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers

from commitments.models import Carrier, Commitment
from commitments.serializers import SiteLinks, commitment_columns, commitment_key_filter, key_of
from forums.models import Answer, Contribution, ContributionKind, Forum, commitments_discussed
from opengov.api import PublicViewSet, as_utc, strict_boolean_filter, updated_since_filter
from opengov.api_output import QuickRows


def with_commitment_keys(forums: list[Forum]) -> list[Forum]:
    """The forums, each with the keys of the commitments it discussed (commitment_keys), in the commitments' order.

    A key is all that is shown of a commitment: read as two columns, rather than as a commitment and its plan
    for each of them (some 350 of each for a page of forums at the OGP scale)."""
    discussed = commitments_discussed(forums, "plan__slug", "number")
    for forum in forums:
        forum.commitment_keys = [key_of(plan_slug, number) for plan_slug, number in discussed[forum.pk]]
    return forums


class ForumListSerializer(serializers.ListSerializer):
    def to_representation(self, data: Iterable[Forum]) -> list[dict]:
        forums = list(data.all() if isinstance(data, BaseManager) else data)
        return super().to_representation(with_commitment_keys(forums))


class ForumSerializer(QuickRows, serializers.ModelSerializer):
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
        list_serializer_class = ForumListSerializer

    def to_representation(self, forum: Forum) -> dict:
        if not hasattr(forum, "commitment_keys"):  # a forum alone, not in a list
            with_commitment_keys([forum])
        return super().to_representation(forum)

    @extend_schema_field({"type": "array", "items": {"type": "string"}})
    def get_commitments(self, forum: Forum) -> list[str]:
        return forum.commitment_keys


class ForumFilter(filters.FilterSet):
    date = filters.DateFromToRangeFilter(help_text=_("Forums held between date_after and date_before (inclusive)."))
    commitment = filters.CharFilter(method="filter_commitment", help_text=_("Key of a commitment discussed."))
    updated_since = updated_since_filter()

    class Meta:
        model = Forum
        fields = ["date", "commitment", "updated_since"]

    def filter_commitment(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        lookup = commitment_key_filter(value)
        if lookup is None:
            return queryset.none()
        return queryset.filter(Exists(Commitment.objects.filter(lookup, forums=OuterRef("pk"))))


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

    queryset = Forum.objects.all()


class AnswerSerializer(QuickRows, serializers.ModelSerializer):
    administration = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, help_text=_("Slug of the administration that answered.")
    )
    administration_name = serializers.CharField(
        source="administration.name", read_only=True, help_text=_("Name of the administration that answered.")
    )

    class Meta:
        model = Answer
        # Who wrote it stays private: an answer is the administration's, not a civil servant's.
        fields = ["administration", "administration_name", "body", "answered_at", "updated_at"]


class ContributionSerializer(QuickRows, serializers.ModelSerializer, SiteLinks):
    # Reads the annotations of commitment_columns("commitment") (not a docstring: the schema would show it).
    # The author's e-mail address and a rejection's reason are private: never add them here.
    commitment = serializers.SerializerMethodField(help_text=_("Key of the commitment; null if about a forum only."))
    forum = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text=_("Identifier of the forum; null if about a commitment only.")
    )
    # Never null here: the model's field is empty only while the contribution is not published.
    published_at = serializers.DateTimeField(read_only=True, help_text=_("When it was published, after moderation."))
    url = serializers.SerializerMethodField(help_text=_("Address of the contribution on the public site."))
    is_answered = serializers.SerializerMethodField(help_text=_("An administration has answered it."))
    waiting_days = serializers.SerializerMethodField(
        help_text=_("For a question not answered yet, whole days since its publication; otherwise null.")
    )
    answer = AnswerSerializer(
        read_only=True, allow_null=True, help_text=_("The administration's public answer; null if none yet.")
    )

    class Meta:
        model = Contribution
        fields = [
            "id",
            "kind",
            "body",
            "display_name",
            "commitment",
            "forum",
            "published_at",
            "url",
            "is_answered",
            "waiting_days",
            "answer",
        ]

    @extend_schema_field({"type": "string", "nullable": True})
    def get_commitment(self, contribution: Contribution) -> str | None:
        if not contribution.commitment_id:
            return None
        return key_of(contribution.commitment_plan_slug, contribution.commitment_number)

    @extend_schema_field({"type": "string", "format": "uri"})
    def get_url(self, contribution: Contribution) -> str:
        # As Contribution.get_absolute_url: its commitment's page, else its forum's.
        if contribution.commitment_id:
            page_name, args = "commitments:detail", [contribution.commitment_plan_slug, contribution.commitment_number]
        else:
            page_name, args = "forums:detail", [contribution.forum_id]
        return f"{self._address(page_name, args)}#contribution-{contribution.pk}"

    def get_is_answered(self, contribution: Contribution) -> bool:
        return hasattr(contribution, "answer")

    @extend_schema_field({"type": "integer", "nullable": True, "minimum": 0})
    def get_waiting_days(self, contribution: Contribution) -> int | None:
        return contribution.waiting_days


class ContributionFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=ContributionKind.choices, help_text=_("Kind of contribution."))
    commitment = filters.CharFilter(method="filter_commitment", help_text=_("Key of the commitment."))
    plan = filters.CharFilter(field_name="commitment__plan__slug", help_text=_("Slug of the commitment's plan."))
    forum = filters.NumberFilter(field_name="forum_id", help_text=_("Identifier of the forum."))
    administration = filters.CharFilter(
        method="filter_administration",
        help_text=_("Slug of an administration: contributions on the commitments it carries, or that it answered."),
    )
    answered = strict_boolean_filter(
        _("true: answered by an administration; false: not answered yet."), method="filter_answered"
    )
    published = filters.DateFromToRangeFilter(
        field_name="published_at",
        help_text=_("Contributions published between published_after and published_before (inclusive dates)."),
    )
    updated_since = filters.IsoDateTimeFilter(
        method="filter_updated_since",
        help_text=_(
            "Only contributions published, changed, answered or whose answer changed at or after this moment "
            "(ISO 8601, e.g. 2020-01-31T00:00:00Z)."
        ),
    )

    class Meta:
        model = Contribution
        fields = ["kind", "commitment", "plan", "forum", "administration", "answered", "published", "updated_since"]

    def filter_commitment(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        lookup = commitment_key_filter(value, "commitment__")
        return queryset.none() if lookup is None else queryset.filter(lookup)

    def filter_administration(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # As ContributionQuerySet.addressed_to, by slug, and with the answers it gave elsewhere (on a forum).
        carried = Carrier.objects.filter(administration__slug=value).values("commitment_id")
        return queryset.filter(Q(commitment_id__in=carried) | Q(answer__administration__slug=value))

    def filter_answered(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.answered() if value else queryset.unanswered()

    def filter_updated_since(self, queryset: QuerySet, name: str, value: datetime.datetime) -> QuerySet:
        # An answer has its own history, and erasing an author's name leaves no history row
        # (see services.erase_contributor).
        value = as_utc(value)
        changed = Contribution.history.filter(id=OuterRef("pk"), history_date__gte=value)
        answer_changed = Answer.history.filter(contribution_id=OuterRef("pk"), history_date__gte=value)
        return queryset.filter(Exists(changed) | Exists(answer_changed) | Q(erased_at__gte=value))


@extend_schema_view(
    list=extend_schema(
        summary=_("List the contributions"),
        description=_(
            "Published questions, ideas and comments of citizens on commitments and forums, with the "
            "administrations' answers; latest published first."
        ),
    ),
    retrieve=extend_schema(
        summary=_("One contribution"), description=_("A published contribution, by its identifier.")
    ),
)
class ContributionViewSet(PublicViewSet):
    """Citizens' published contributions and the administrations' answers."""

    serializer_class = ContributionSerializer
    filterset_class = ContributionFilter
    ordering_fields = ["published_at", "answered_at"]
    ordering = ["-published_at", "-pk"]

    def get_queryset(self) -> QuerySet:
        # Published only, whatever the request: what waits for moderation or was rejected is nobody's business.
        # Of its commitment and forum, only the key and the identifier are shown: see commitment_columns.
        return (
            Contribution.objects.published()
            .select_related("answer__administration")
            .annotate(answered_at=F("answer__answered_at"), **commitment_columns("commitment"))
        )


ROUTES = [("forums", ForumViewSet, "forum"), ("contributions", ContributionViewSet, "contribution")]
