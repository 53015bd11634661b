import re

from django.db.models import BooleanField, Exists, ExpressionWrapper, F, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from commitments import services
from commitments.models import (
    ActionPlan,
    ActionPlanStatus,
    Administration,
    AdministrationKind,
    Axis,
    Carrier,
    CarrierRole,
    Commitment,
    CommitmentCompletion,
    Milestone,
    words_match,
)
from commitments.permissions import can_edit_commitment
from commitments.serializers import (
    AdministrationSerializer,
    AxisSerializer,
    CommitmentSerializer,
    MilestoneDoneSerializer,
    MilestoneSerializer,
    PlanSerializer,
    commitment_columns,
    commitment_key_filter,
)
from opengov.api import PublicViewSet, strict_boolean_filter, updated_since_filter

OGP_ID = re.compile(r"^[A-Z]{2,3}[0-9]{4}$")


class PlanFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=ActionPlanStatus.choices, help_text=_("Status of the plan."))
    owner = filters.CharFilter(lookup_expr="icontains", help_text=_("Words of the owner's name."))
    updated_since = updated_since_filter()

    class Meta:
        model = ActionPlan
        fields = ["status", "owner", "updated_since"]


@extend_schema_view(
    list=extend_schema(summary=_("List the action plans"), description=_("Every plan, most recent first.")),
    retrieve=extend_schema(summary=_("One action plan"), description=_("A plan, by its slug (e.g. 2018-2020).")),
)
class PlanViewSet(PublicViewSet):
    """Action plans, with their progress."""

    serializer_class = PlanSerializer
    filterset_class = PlanFilter
    lookup_field = "slug"
    ordering_fields = ["start_year", "slug"]
    ordering = ["-start_year", "slug"]

    def get_queryset(self) -> QuerySet:
        # The predecessor's slug as a column: joined whole, the previous plan cost a model instance a row.
        return ActionPlan.objects.with_progress().annotate(predecessor_slug=F("predecessor__slug"))


class AxisFilter(filters.FilterSet):
    plan = filters.CharFilter(field_name="plan__slug", help_text=_("Slug of the plan."))

    class Meta:
        model = Axis
        fields = ["plan"]


@extend_schema_view(
    list=extend_schema(summary=_("List the axes"), description=_("The axes of every plan, with their progress.")),
    retrieve=extend_schema(summary=_("One axis"), description=_("An axis, by its identifier.")),
)
class AxisViewSet(PublicViewSet):
    """Axes of the plans."""

    serializer_class = AxisSerializer
    filterset_class = AxisFilter
    ordering_fields = ["number"]
    ordering = ["plan__slug", "number"]

    def get_queryset(self) -> QuerySet:
        return Axis.objects.with_progress().select_related("plan")


class AdministrationFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=AdministrationKind.choices, help_text=_("Kind of administration."))
    plan = filters.CharFilter(method="filter_plan", help_text=_("Only those carrying a commitment of this plan."))
    q = filters.CharFilter(method="filter_words", help_text=_("Words of the name, English name or acronym."))

    class Meta:
        model = Administration
        fields = ["kind", "plan", "q"]

    def filter_plan(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            Exists(Carrier.objects.filter(administration=OuterRef("pk"), commitment__plan__slug=value))
        )

    def filter_words(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(words_match(["name", "name_en", "short_name"], value))


@extend_schema_view(
    list=extend_schema(summary=_("List the administrations"), description=_("Bodies that carry commitments.")),
    retrieve=extend_schema(summary=_("One administration"), description=_("An administration, by its slug.")),
)
class AdministrationViewSet(PublicViewSet):
    """Administrations that carry commitments, named as the plans wrote them."""

    serializer_class = AdministrationSerializer
    filterset_class = AdministrationFilter
    lookup_field = "slug"
    ordering_fields = ["name", "slug"]
    ordering = ["name"]
    queryset = Administration.objects.all()


class CommitmentFilter(filters.FilterSet):
    plan = filters.CharFilter(field_name="plan__slug", help_text=_("Slug of the plan."))
    axis = filters.NumberFilter(field_name="axis__number", help_text=_("Axis number (with plan)."))
    administration = filters.CharFilter(
        method="filter_administration", help_text=_("Slug of a carrying administration.")
    )
    role = filters.ChoiceFilter(
        choices=CarrierRole.choices,
        method="filter_nothing",
        help_text=_("With administration: only where it has this role."),
    )
    completion = filters.ChoiceFilter(choices=CommitmentCompletion.choices, help_text=_("Level on the OGP scale."))
    late = strict_boolean_filter(
        _("true: with a milestone past due and not done; false: without."), method="filter_late"
    )
    updated_since = updated_since_filter()
    q = filters.CharFilter(method="filter_words", help_text=_("Words of the title, summary, description or OGP id."))

    class Meta:
        model = Commitment
        fields = ["plan", "axis", "administration", "role", "completion", "late", "updated_since", "q"]

    def filter_nothing(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset  # read by filter_administration

    def filter_administration(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        carriers = Carrier.objects.filter(commitment=OuterRef("pk"), administration__slug=value)
        role = self.form.cleaned_data.get("role")
        if role:
            carriers = carriers.filter(role=role)
        return queryset.filter(Exists(carriers))

    def filter_late(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        # By the rule of is_late, as a semi-join: filtering on the annotation would probe every commitment's
        # milestones one by one (with_lateness()).
        late = Commitment.objects.late(timezone.localdate()).values("pk")
        return queryset.filter(pk__in=late) if value else queryset.exclude(pk__in=late)

    def filter_words(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.matching(value)


# What a row of the API shows: the commitment's columns but the search's upper-cased copy of its texts, and of its
# plan, axis and updater only what the row writes. Read whole, those three brought their descriptions and their
# sources (JSON decoded for each row) to every row of a page (issue 9).
SHOWN_COLUMNS = [
    *(field.name for field in Commitment._meta.concrete_fields if field.name != "search_text"),
    "plan__slug",
    "plan__is_synthetic",
    "axis__number",
    "updated_by__slug",
]
# The carriers in the pages' order, with their administration's slug and name as columns rather than an
# administration object each, and in a list (to_attr) rather than a related manager, for which Django builds a
# queryset per commitment: with the columns above, a row of the list costs about a fifth less at the OGP scale
# (issue 9).
API_CARRIERS = (
    Carrier.objects.shown()
    .select_related(None)
    .annotate(administration_slug=F("administration__slug"), administration_name=F("administration__name"))
    .only("commitment", "role")
)


@extend_schema_view(
    list=extend_schema(summary=_("List the commitments"), description=_("Commitments of every plan, filterable.")),
    retrieve=extend_schema(
        summary=_("One commitment"),
        description=_("A commitment, by its key (plan slug and number, e.g. 2018-2020-4) or its OGP id (FR0033)."),
        parameters=[OpenApiParameter("key", str, OpenApiParameter.PATH, description=_("Key or OGP identifier."))],
    ),
)
class CommitmentViewSet(PublicViewSet):
    """Commitments, with their carriers, completion, progress and lateness."""

    serializer_class = CommitmentSerializer
    filterset_class = CommitmentFilter
    lookup_url_kwarg = "key"
    ordering_fields = ["number", "plan__slug", "progress", "updated_at"]
    ordering = ["plan__slug", "number"]

    def get_queryset(self) -> QuerySet:
        return (
            Commitment.objects.with_lateness(timezone.localdate())
            .select_related("plan", "axis", "updated_by")
            .only(*SHOWN_COLUMNS)
            # Of the predecessor, its key alone: joined whole, it read every column of a second commitment a row.
            .annotate(predecessor_plan_slug=F("predecessor__plan__slug"), predecessor_number=F("predecessor__number"))
            .prefetch_related(Prefetch("carriers", queryset=API_CARRIERS, to_attr="shown_carriers"))
        )

    def get_object(self) -> Commitment:
        key = self.kwargs["key"]
        queryset = self.get_queryset()
        if OGP_ID.match(key):
            return get_object_or_404(queryset, ogp_id=key)
        lookup = commitment_key_filter(key)
        if lookup is None:
            raise exceptions.NotFound()
        return get_object_or_404(queryset, lookup)


class MilestoneFilter(filters.FilterSet):
    plan = filters.CharFilter(field_name="commitment__plan__slug", help_text=_("Slug of the plan."))
    commitment = filters.CharFilter(method="filter_commitment", help_text=_("Key of the commitment."))
    done = filters.BooleanFilter(
        field_name="completed_on", lookup_expr="isnull", exclude=True, help_text=_("Done or not.")
    )
    due = filters.DateFromToRangeFilter(field_name="due_date", help_text=_("Due between due_after and due_before."))
    updated_since = updated_since_filter()

    class Meta:
        model = Milestone
        fields = ["plan", "commitment", "done", "due", "updated_since"]

    def filter_commitment(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        lookup = commitment_key_filter(value, "commitment__")
        return queryset.none() if lookup is None else queryset.filter(lookup)

    def filter_done(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(completed_on__isnull=not value)


@extend_schema_view(
    list=extend_schema(summary=_("List the milestones"), description=_("Milestones of every commitment.")),
    retrieve=extend_schema(summary=_("One milestone"), description=_("A milestone, by its identifier.")),
)
class MilestoneViewSet(PublicViewSet):
    """Milestones: what each commitment promised to deliver, and when."""

    serializer_class = MilestoneSerializer
    filterset_class = MilestoneFilter
    ordering_fields = ["due_date", "completed_on"]
    ordering = ["commitment__plan__slug", "commitment__number", "position", "pk"]

    def get_queryset(self) -> QuerySet:
        late = Q(due_date__lt=timezone.localdate(), completed_on__isnull=True)
        return Milestone.objects.annotate(
            is_late=ExpressionWrapper(late, output_field=BooleanField()), **commitment_columns("commitment")
        )

    @extend_schema(
        summary=_("Mark a milestone done"),
        description=_(
            "For an administration's token, on a commitment it carries (or a coordinator's). "
            "Recorded in the public history with the reason."
        ),
        request=MilestoneDoneSerializer,
        responses={200: MilestoneSerializer},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def done(self, request: Request, pk: str | None = None) -> Response:
        milestone = get_object_or_404(Milestone.objects.select_related("commitment__plan"), pk=pk)
        if not can_edit_commitment(request.user, milestone.commitment):
            raise exceptions.PermissionDenied(_("Your administration does not carry this commitment."))
        payload = MilestoneDoneSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.mark_milestone_done(milestone=milestone, by=request.user, **payload.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=milestone.pk)).data)


ROUTES = [
    ("plans", PlanViewSet, "plan"),
    ("axes", AxisViewSet, "axis"),
    ("administrations", AdministrationViewSet, "administration"),
    ("commitments", CommitmentViewSet, "commitment"),
    ("milestones", MilestoneViewSet, "milestone"),
]
