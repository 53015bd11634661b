from django.db.models import OuterRef, Q, Subquery
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from commitments.models import ActionPlan, Administration, Axis, Carrier, Commitment, Milestone
from commitments.progress import whole_percent
from opengov.addresses import Addresses
from opengov.api_output import QuickRows


def commitment_key(commitment: Commitment) -> str:
    """The stable identifier of a commitment in the API: its plan's slug and its number."""
    return key_of(commitment.plan.slug, commitment.number)


def key_of(plan_slug: str, number: int) -> str:
    """A commitment's key, from its plan's slug and its number."""
    return f"{plan_slug}-{number}"


def commitment_columns(field: str) -> dict[str, Subquery]:
    """What a list shows of the commitment its rows name in `field` (its key, its plan's flag), as annotations.

    Selected with the row rather than as a commitment and a plan made into objects for each row, for three of their
    values: at the OGP scale, those objects cost more than the rest of the row. Subqueries rather than joins, which
    the count of the list would keep (50 ms for the indicators)."""
    commitment = Commitment.objects.filter(pk=OuterRef(field)).order_by()
    return {
        "commitment_plan_slug": Subquery(commitment.values("plan__slug")),
        "commitment_number": Subquery(commitment.values("number")),
        "plan_is_synthetic": Subquery(commitment.values("plan__is_synthetic")),
    }


def commitment_key_filter(key: str, prefix: str = "") -> Q | None:
    """The lookup for a commitment key such as 2018-2020-4 (under `prefix`), or None if it is not one."""
    plan, _, number = key.rpartition("-")
    if not plan or not number.isdigit():
        return None
    return Q(**{f"{prefix}plan__slug": plan, f"{prefix}number": int(number)})


class SiteLinks(serializers.Serializer):
    """The object's address in the API and on the site."""

    def _address(self, name: str, args: list[str | int]) -> str:
        """reverse(name, args=args), absolute for the request's host.

        The URL is resolved once per serializer, with placeholders, and the arguments are put in its place for each
        row: reverse() and build_absolute_uri() for every row of a page cost a fifth of a list's time."""
        if "_addresses" not in self.__dict__:
            self._addresses = Addresses(self.context.get("request"))
        return self._addresses(name, *args)

    def _links(self, api_name: str, args: list[str | int], site_name: str, site_args: list[str | int]) -> dict:
        """The object's addresses; site_name and site_args are those of its get_absolute_url()."""
        return {"api": self._address(f"api:{api_name}", args), "site": self._address(site_name, site_args)}


class LinksField(serializers.SerializerMethodField):
    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("help_text", _("Addresses of this object: in the API, and on the public site."))
        super().__init__(**kwargs)


def plan_is_synthetic_field(source: str | None = None) -> serializers.BooleanField:
    """Whether the plan an object belongs to is synthetic, read from the plan the queryset already selects (or, with
    no source, from its plan_is_synthetic annotation: see commitment_columns)."""
    return serializers.BooleanField(
        source=source,
        read_only=True,
        help_text=_("Its plan is synthetic data, generated for load tests: not real."),
    )


LINKS_SCHEMA = {
    "type": "object",
    "properties": {"api": {"type": "string", "format": "uri"}, "site": {"type": "string", "format": "uri"}},
    "required": ["api", "site"],
}


class PlanSerializer(QuickRows, serializers.ModelSerializer, SiteLinks):
    # From the view's annotation (PlanViewSet.get_queryset), not a joined plan built whole for its slug.
    predecessor = serializers.CharField(
        source="predecessor_slug",
        read_only=True,
        allow_null=True,
        help_text=_("Slug of the previous plan of the same owner."),
    )
    progress = serializers.SerializerMethodField(
        help_text=_("Mean progress of the commitments in %, leaving out unknown and withdrawn ones; null if none.")
    )
    commitment_count = serializers.IntegerField(read_only=True, help_text=_("Number of commitments."))
    links = LinksField()

    class Meta:
        model = ActionPlan
        fields = [
            "slug",
            "title",
            "title_en",
            "owner",
            "start_year",
            "end_year",
            "published_on",
            "status",
            "consultation_opens_on",
            "consultation_closes_on",
            "document_url",
            "predecessor",
            "progress",
            "commitment_count",
            "sources",
            "is_synthetic",
            "links",
        ]

    @extend_schema_field({"type": "integer", "nullable": True, "minimum": 0, "maximum": 100})
    def get_progress(self, plan: ActionPlan) -> int | None:
        return whole_percent(plan.progress_average)

    @extend_schema_field(LINKS_SCHEMA)
    def get_links(self, plan: ActionPlan) -> dict:
        return self._links("plan-detail", [plan.slug], "commitments:plan", [plan.slug])


class AxisSerializer(QuickRows, serializers.ModelSerializer):
    plan = serializers.SlugRelatedField(slug_field="slug", read_only=True, help_text=_("Slug of the plan."))
    plan_is_synthetic = plan_is_synthetic_field("plan.is_synthetic")
    progress = serializers.SerializerMethodField(
        help_text=_("Mean progress of the axis's commitments in %, leaving out unknown and withdrawn ones.")
    )
    commitment_count = serializers.IntegerField(read_only=True, help_text=_("Number of commitments."))

    class Meta:
        model = Axis
        fields = [
            "id",
            "plan",
            "plan_is_synthetic",
            "number",
            "title",
            "title_en",
            "title_is_official",
            "progress",
            "commitment_count",
        ]

    @extend_schema_field({"type": "integer", "nullable": True, "minimum": 0, "maximum": 100})
    def get_progress(self, axis: Axis) -> int | None:
        return whole_percent(axis.progress_average)


class AdministrationSerializer(QuickRows, serializers.ModelSerializer, SiteLinks):
    links = LinksField()

    class Meta:
        model = Administration
        fields = [
            "slug",
            "name",
            "name_is_official",
            "name_en",
            "short_name",
            "kind",
            "website",
            "sources",
            "is_synthetic",
            "links",
        ]

    @extend_schema_field(LINKS_SCHEMA)
    def get_links(self, administration: Administration) -> dict:
        slug = administration.slug
        return self._links("administration-detail", [slug], "commitments:administration", [slug])


class CarrierSerializer(QuickRows, serializers.ModelSerializer):
    administration = serializers.CharField(
        source="administration_slug", read_only=True, help_text=_("Slug of the administration.")
    )
    name = serializers.CharField(source="administration_name", read_only=True, help_text=_("Its name."))

    class Meta:
        model = Carrier
        fields = ["administration", "name", "role"]


class CommitmentSerializer(QuickRows, serializers.ModelSerializer, SiteLinks):
    key = serializers.SerializerMethodField(help_text=_("Stable identifier: the plan's slug and the number."))
    plan = serializers.SlugRelatedField(slug_field="slug", read_only=True, help_text=_("Slug of the plan."))
    plan_is_synthetic = plan_is_synthetic_field("plan.is_synthetic")
    axis = serializers.IntegerField(source="axis.number", read_only=True, allow_null=True, help_text=_("Axis number."))
    carriers = CarrierSerializer(
        source="shown_carriers", many=True, read_only=True, help_text=_("Carrying administrations and their role.")
    )
    is_late = serializers.BooleanField(read_only=True, help_text=_("A milestone is past its due date and not done."))
    predecessor = serializers.SerializerMethodField(help_text=_("Key of the commitment this one continues."))
    updated_by = serializers.SlugRelatedField(
        slug_field="slug",
        read_only=True,
        allow_null=True,
        help_text=_("Slug of the administration that last updated it."),
    )
    links = LinksField()

    class Meta:
        model = Commitment
        fields = [
            "key",
            "ogp_id",
            "other_ogp_ids",
            "plan",
            "plan_is_synthetic",
            "axis",
            "axis_is_inferred",
            "number",
            "title",
            "title_is_official",
            "title_en",
            "summary",
            "description",
            "carriers",
            "carriers_note",
            "ogp_values",
            "start_date",
            "end_date",
            "predecessor",
            "completion",
            "progress",
            "progress_rule",
            "progress_note",
            "is_late",
            "updated_at",
            "updated_by",
            "is_verified",
            "source_note",
            "sources",
            "links",
        ]

    def get_key(self, commitment: Commitment) -> str:
        return commitment_key(commitment)

    @extend_schema_field({"type": "string", "nullable": True})
    def get_predecessor(self, commitment: Commitment) -> str | None:
        # From the view's annotations (CommitmentViewSet.get_queryset), not a joined commitment.
        if not commitment.predecessor_id:
            return None
        return key_of(commitment.predecessor_plan_slug, commitment.predecessor_number)

    @extend_schema_field(LINKS_SCHEMA)
    def get_links(self, commitment: Commitment) -> dict:
        site_args = [commitment.plan.slug, commitment.number]
        return self._links("commitment-detail", [commitment_key(commitment)], "commitments:detail", site_args)


class MilestoneSerializer(QuickRows, serializers.ModelSerializer):
    # Reads the annotations of commitment_columns("commitment") (not a docstring: the schema would show it).
    commitment = serializers.SerializerMethodField(help_text=_("Key of the commitment."))
    plan_is_synthetic = plan_is_synthetic_field()
    is_late = serializers.BooleanField(read_only=True, help_text=_("Past its due date and not done."))

    class Meta:
        model = Milestone
        fields = [
            "id",
            "commitment",
            "plan_is_synthetic",
            "title",
            "due_date",
            "completed_on",
            "weight",
            "evidence_url",
            "is_late",
        ]

    def get_commitment(self, milestone: Milestone) -> str:
        return key_of(milestone.commitment_plan_slug, milestone.commitment_number)


class MilestoneDoneSerializer(serializers.Serializer):
    completed_on = serializers.DateField(help_text=_("The day the milestone was done (not in the future)."))
    evidence_url = serializers.URLField(
        required=False, allow_blank=True, max_length=500, help_text=_("A public link that shows it is done.")
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text=_("Why, shown in the public history.")
    )
