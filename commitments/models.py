import datetime
import functools
import operator
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Concat, Upper
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from opengov.addresses import path_to


class HistoryAdministration(models.Model):
    """Adds to every history row the administration its author acted for, as it was at the time.

    Memberships change; the public timeline must still say which administration made each change.
    Filled in by commitments.history.record_acting_administration.
    """

    # No database constraint, like django-simple-history's own relations: history outlives what it names.
    history_administration = models.ForeignKey(
        "commitments.Administration",
        verbose_name=_("on behalf of"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        abstract = True


def words_match(fields: list[str], text: str) -> Q:
    """Every word of the text (ten at most) appears, ignoring case, in one of the fields."""
    match = Q()
    for word in text.split()[:10]:
        match &= functools.reduce(operator.or_, (Q(**{f"{field}__icontains": word}) for field in fields))
    return match


class AdministrationKind(models.TextChoices):
    MINISTRY = "ministry", _("Ministry")
    AGENCY = "agency", _("Agency")
    COURT = "court", _("Court")
    INDEPENDENT_AUTHORITY = "independent_authority", _("Independent authority")
    PARLIAMENT = "parliament", _("Parliament")
    LOCAL_GOVERNMENT = "local_government", _("Local government")
    OTHER = "other", _("Other")


class ActionPlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    CONSULTATION = "consultation", _("In consultation")
    IN_PROGRESS = "in_progress", _("In progress")
    CLOSED = "closed", _("Closed")


class ConsultationState(models.TextChoices):
    """A plan's consultation as a reader sees it on a given day; computed, never stored."""

    NONE = "none", _("No consultation")
    UPCOMING = "upcoming", _("Consultation to come")
    OPEN = "open", _("Consultation open")
    CLOSED = "closed", _("Consultation closed")


class CommitmentCompletion(models.TextChoices):
    """The OGP completion scale; a commitment is unknown until it is assessed."""

    UNKNOWN = "unknown", _("Not assessed")
    NOT_STARTED = "not_started", _("Not started")
    LIMITED = "limited", _("Limited")
    SUBSTANTIAL = "substantial", _("Substantial")
    COMPLETE = "complete", _("Complete")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class CommitmentOgpValue(models.TextChoices):
    ACCESS_TO_INFORMATION = "access_to_information", _("Access to information")
    CIVIC_PARTICIPATION = "civic_participation", _("Civic participation")
    PUBLIC_ACCOUNTABILITY = "public_accountability", _("Public accountability")
    TECHNOLOGY_AND_INNOVATION = "technology_and_innovation", _("Technology and innovation")


class CommitmentProgressRule(models.TextChoices):
    """Which rule produced a commitment's progress (see commitments/progress.py)."""

    NONE = "none", _("No data")
    MILESTONES = "milestones", _("Weighted share of milestones done")
    INDICATORS = "indicators", _("Indicators between baseline and target")


class CarrierRole(models.TextChoices):
    LEAD = "lead", _("Lead")
    SUPPORT = "support", _("Support")


def validate_ogp_values(value: object) -> None:
    allowed = set(CommitmentOgpValue.values)
    if not isinstance(value, list) or not all(isinstance(item, str) and item in allowed for item in value):
        raise ValidationError(
            _("OGP values must be a list taken from: %(allowed)s."),
            params={"allowed": ", ".join(sorted(allowed))},
        )


def validate_sources(value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise ValidationError(_("Sources must be a list of non-empty texts (URLs or references)."))


def choices_check(field: str, choices: type[models.TextChoices], name: str, message: str) -> models.CheckConstraint:
    """A database guarantee that a choice field holds one of its choices, whatever wrote it."""
    return models.CheckConstraint(
        condition=Q(**{f"{field}__in": choices.values}), name=name, violation_error_message=message
    )


class Administration(models.Model):
    """A body that carries commitments, named as the plan wrote it at the time."""

    name = models.CharField(_("name"), max_length=300)
    name_is_official = models.BooleanField(
        _("official French name"),
        default=True,
        help_text=_("Unticked when the French name is a translation of the English one."),
    )
    name_en = models.CharField(_("English name"), max_length=300, blank=True)
    short_name = models.CharField(_("short name"), max_length=50, blank=True)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=30, choices=AdministrationKind.choices)
    website = models.URLField(_("website"), blank=True)
    sources = models.JSONField(_("sources"), default=list, blank=True, validators=[validate_sources])
    is_synthetic = models.BooleanField(
        _("synthetic data"),
        default=False,
        editable=False,
        help_text=_("Generated for load tests: not a real administration."),
    )

    history = HistoricalRecords(bases=[HistoryAdministration])

    class Meta:
        verbose_name = _("administration")
        verbose_name_plural = _("administrations")
        ordering = ["name"]
        # A page of a list by name reads the start of this index, not a sort of every administration (issue 9).
        indexes = [models.Index(fields=["name", "id"], name="administration_name")]
        constraints = [
            choices_check(
                "kind",
                AdministrationKind,
                "administration_kind_valid",
                _("This kind of administration does not exist."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.short_name})" if self.short_name else self.name

    def get_absolute_url(self) -> str:
        return path_to("commitments:administration", self.slug)


def commitment_statistics(owner: str) -> dict[str, models.Expression]:
    """progress_average (the rule of progress.average_progress) and commitment_count of the commitments whose
    `owner` (plan or axis) is the outer row, each a subquery: a page of plans reads only its own commitments,
    where a join and GROUP BY read every commitment of every plan (issue 9)."""
    from commitments.progress import average_progress_aggregate  # progress.py imports this module

    commitments = Commitment.objects.filter(**{owner: OuterRef("pk")}).order_by().values(owner)
    return {
        "progress_average": Subquery(commitments.annotate(value=average_progress_aggregate()).values("value")),
        "commitment_count": Coalesce(Subquery(commitments.annotate(value=models.Count("pk")).values("value")), 0),
    }


class ActionPlanQuerySet(models.QuerySet):
    def with_progress(self) -> "ActionPlanQuerySet":
        """Annotate progress_average (the rule of progress.average_progress) and commitment_count."""
        return self.annotate(**commitment_statistics("plan"))


class ActionPlan(models.Model):
    title = models.CharField(_("title"), max_length=300)
    title_en = models.CharField(_("English title"), max_length=300, blank=True)
    slug = models.SlugField(_("slug"), max_length=60, unique=True, help_text=_("For example 2018-2020."))
    owner = models.CharField(
        _("owner"), max_length=200, help_text=_("The government or parliament that adopted the plan.")
    )
    start_year = models.PositiveSmallIntegerField(_("first year"))
    end_year = models.PositiveSmallIntegerField(_("last year"))
    published_on = models.DateField(_("published on"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=ActionPlanStatus.choices, default=ActionPlanStatus.DRAFT
    )
    # A plan in consultation takes comments and ideas on its commitments between these two dates.
    consultation_opens_on = models.DateField(_("consultation opens on"), null=True, blank=True)
    consultation_closes_on = models.DateField(
        _("consultation closes on"), null=True, blank=True, help_text=_("The last day comments are taken.")
    )
    description = models.TextField(_("description"), blank=True)
    document_url = models.URLField(_("official document"), max_length=500, blank=True)
    predecessor = models.ForeignKey(
        "self",
        verbose_name=_("previous plan"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="successors",
    )
    sources = models.JSONField(_("sources"), default=list, blank=True, validators=[validate_sources])
    # Set only by commitments.scale_data, which writes into a database of its own; every page and API
    # answer that shows such a plan, or what belongs to it, says that it is not real.
    is_synthetic = models.BooleanField(
        _("synthetic data"),
        default=False,
        editable=False,
        help_text=_("Generated for load tests: not a real plan."),
    )

    objects = ActionPlanQuerySet.as_manager()
    history = HistoricalRecords(bases=[HistoryAdministration])

    class Meta:
        verbose_name = _("action plan")
        verbose_name_plural = _("action plans")
        ordering = ["-start_year", "slug"]
        # Lists of commitments and indicators are in this order too: with it, a page of them is read from the
        # start of each index in turn rather than sorted out of every match (issue 9).
        indexes = [models.Index(fields=["-start_year", "slug"], name="actionplan_latest_first")]
        constraints = [
            choices_check("status", ActionPlanStatus, "actionplan_status_valid", _("This plan status does not exist.")),
            models.CheckConstraint(
                condition=Q(consultation_opens_on__isnull=True)
                | Q(consultation_closes_on__isnull=True)
                | Q(consultation_closes_on__gte=models.F("consultation_opens_on")),
                name="actionplan_consultation_ordered",
                violation_error_message=_("A consultation cannot close before it opens."),
            ),
            models.CheckConstraint(
                condition=Q(end_year__gte=models.F("start_year")),
                name="actionplan_period_ordered",
                violation_error_message=_("The last year of a plan cannot come before its first year."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return path_to("commitments:plan", self.slug)

    def consultation_state(self, today: datetime.date) -> str:
        """Where the plan's consultation stands: none, upcoming, open or closed (see ConsultationState)."""
        opens, closes = self.consultation_opens_on, self.consultation_closes_on
        if closes is not None and today > closes:
            return ConsultationState.CLOSED
        if self.status != ActionPlanStatus.CONSULTATION:
            return ConsultationState.NONE
        if opens is not None and today < opens:
            return ConsultationState.UPCOMING
        return ConsultationState.OPEN


class AxisQuerySet(models.QuerySet):
    def with_progress(self) -> "AxisQuerySet":
        """Annotate progress_average (the rule of progress.average_progress) and commitment_count."""
        return self.annotate(**commitment_statistics("axis"))


class Axis(models.Model):
    plan = models.ForeignKey(ActionPlan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="axes")
    number = models.PositiveSmallIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=300)
    title_is_official = models.BooleanField(
        _("official French title"),
        default=True,
        help_text=_("Unticked when the French title is a translation or a description, not the plan's wording."),
    )
    title_en = models.CharField(_("English title"), max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True)
    sources = models.JSONField(_("sources"), default=list, blank=True, validators=[validate_sources])

    objects = AxisQuerySet.as_manager()
    history = HistoricalRecords(bases=[HistoryAdministration])

    class Meta:
        verbose_name = _("axis")
        verbose_name_plural = _("axes")
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "number"],
                name="axis_number_unique_in_plan",
                violation_error_message=_("This plan already has an axis with this number."),
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1),
                name="axis_number_positive",
                violation_error_message=_("An axis number starts at 1."),
            ),
        ]

    def __str__(self) -> str:
        return _("Axis %(number)s: %(title)s") % {"number": self.number, "title": self.title}


class CommitmentQuerySet(models.QuerySet):
    def in_plan(self, plan: ActionPlan | str) -> "CommitmentQuerySet":
        return self.filter(plan__slug=plan) if isinstance(plan, str) else self.filter(plan=plan)

    def carried_by(self, administration: Administration, role: str | None = None) -> "CommitmentQuerySet":
        carriers = Carrier.objects.filter(commitment=OuterRef("pk"), administration=administration)
        if role:
            carriers = carriers.filter(role=role)
        return self.filter(Exists(carriers))

    def matching(self, text: str) -> "CommitmentQuerySet":
        """Commitments whose title, English title, summary, description or OGP id hold every word (ten at most),
        ignoring case."""
        match = Q()
        for word in text.split()[:10]:
            match &= Q(search_text__contains=Upper(Value(word)))
        return self.filter(match)

    def late(self, today: datetime.date) -> "CommitmentQuerySet":
        """Commitments with at least one milestone past its due date and not done."""
        return self.filter(Exists(Milestone.objects.late(today).filter(commitment=OuterRef("pk"))))

    def with_lateness(self, today: datetime.date) -> "CommitmentQuerySet":
        """Annotate is_late, by the rule of late().

        As a scalar subquery, which PostgreSQL runs for each row it returns, one probe of the index milestone_open.
        It planned an EXISTS as a hash of every late milestone whenever it expected many rows, as on a first page
        before its LIMIT: 3 ms at the scale of every OGP member for the 30 commitments of a page of search (issue
        9). To select the late commitments, filter by late(): there a hash is the right plan."""
        # Unordered: any late milestone says it, and the milestones' own order would join their plans.
        late = Milestone.objects.late(today).filter(commitment=OuterRef("pk")).order_by()
        first_late = late.values(late=Value(True))[:1]
        return self.annotate(is_late=Coalesce(Subquery(first_late, output_field=models.BooleanField()), False))

    def editable_by(self, user: Any) -> "CommitmentQuerySet":
        """What a person may update: every commitment for coordinators, those their administrations carry
        for editors, nothing for anyone else. The admin, the API and the imports all start from it."""
        return within_editable_commitments(self, user, "pk")

    def with_related(self) -> "CommitmentQuerySet":
        """What a list of commitments shows, in a fixed number of queries."""
        return self.select_related("plan", "axis", "updated_by").prefetch_related(
            models.Prefetch("carriers", queryset=Carrier.objects.shown())
        )


class Commitment(models.Model):
    plan = models.ForeignKey(ActionPlan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="commitments")
    axis = models.ForeignKey(
        Axis,
        verbose_name=_("axis"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="commitments",
    )
    axis_is_inferred = models.BooleanField(
        _("axis inferred"),
        default=False,
        help_text=_("Ticked when the axis follows from the numbering rather than from a source that states it."),
    )
    number = models.PositiveSmallIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=500)
    title_is_official = models.BooleanField(
        _("official French title"),
        default=True,
        help_text=_("Unticked when the French title is a translation of the English one."),
    )
    title_en = models.CharField(_("English title"), max_length=500, blank=True)
    slug = models.SlugField(_("slug"), max_length=120)
    summary = models.TextField(_("summary"), blank=True)
    description = models.TextField(_("description"), blank=True)
    ogp_id = models.CharField(
        _("OGP identifier"),
        max_length=12,
        blank=True,
        help_text=_("As on the OGP website, for example FR0030."),
    )
    other_ogp_ids = models.JSONField(
        _("other OGP identifiers"),
        default=list,
        blank=True,
        help_text=_("When OGP split the commitment into several entries."),
    )
    carriers_note = models.TextField(
        _("note on carriers"), blank=True, help_text=_("Supporters that are not a single administration.")
    )
    ogp_values = models.JSONField(_("OGP values"), default=list, blank=True, validators=[validate_ogp_values])
    start_date = models.DateField(_("start date"), null=True, blank=True)
    end_date = models.DateField(_("end date"), null=True, blank=True)
    predecessor = models.ForeignKey(
        "self",
        verbose_name=_("predecessor"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="successors",
        help_text=_("The commitment of an earlier plan that this one continues."),
    )
    completion = models.CharField(
        _("completion"), max_length=20, choices=CommitmentCompletion.choices, default=CommitmentCompletion.UNKNOWN
    )
    progress_note = models.TextField(_("progress note"), blank=True)
    # Derived from milestones or indicators by services.refresh_progress; kept in a column so that
    # lists, filters and averages do not recompute it. NULL means "not reported", never zero.
    progress = models.PositiveSmallIntegerField(_("progress (%)"), null=True, blank=True, editable=False)
    progress_rule = models.CharField(
        _("progress rule"),
        max_length=20,
        choices=CommitmentProgressRule.choices,
        default=CommitmentProgressRule.NONE,
        editable=False,
    )
    is_verified = models.BooleanField(
        _("verified"), default=True, help_text=_("Unticked when the item rests on a weaker source, named in the note.")
    )
    source_note = models.TextField(_("note on sources"), blank=True)
    sources = models.JSONField(_("sources"), default=list, blank=True, validators=[validate_sources])
    updated_at = models.DateTimeField(_("updated at"), null=True, blank=True, editable=False)
    updated_by = models.ForeignKey(
        Administration,
        verbose_name=_("updated by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    administrations = models.ManyToManyField(
        Administration, through="Carrier", related_name="commitments", verbose_name=_("carrying administrations")
    )
    # What matching() reads: the searched texts, upper-cased by the database when they change rather than at each
    # search (upper-casing every description took most of a search's time, issue 9). A space apart: no searched
    # word holds one, so none matches across two texts. On PostgreSQL a trigram index serves it (migration 0005).
    search_text = models.GeneratedField(
        expression=Upper(
            Concat(
                "title",
                Value(" "),
                "title_en",
                Value(" "),
                "summary",
                Value(" "),
                "description",
                Value(" "),
                "ogp_id",
                output_field=models.TextField(),
            )
        ),
        output_field=models.TextField(),
        db_persist=True,
    )

    objects = CommitmentQuerySet.as_manager()
    history = HistoricalRecords(
        excluded_fields=["progress", "progress_rule", "search_text"], bases=[HistoryAdministration]
    )

    class Meta:
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "number"],
                name="commitment_number_unique_in_plan",
                violation_error_message=_("This plan already has a commitment with this number."),
            ),
            models.UniqueConstraint(
                fields=["plan", "slug"],
                name="commitment_slug_unique_in_plan",
                violation_error_message=_("This plan already has a commitment with this slug."),
            ),
            models.UniqueConstraint(
                fields=["ogp_id"],
                condition=~Q(ogp_id=""),
                name="commitment_ogp_id_unique",
                violation_error_message=_("Another commitment already has this OGP identifier."),
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1),
                name="commitment_number_positive",
                violation_error_message=_("A commitment number starts at 1."),
            ),
            choices_check(
                "completion",
                CommitmentCompletion,
                "commitment_completion_valid",
                _("Completion must be one of the OGP levels."),
            ),
            models.CheckConstraint(
                condition=Q(progress__isnull=True) | Q(progress__gte=0, progress__lte=100),
                name="commitment_progress_range",
                violation_error_message=_("Progress is a percentage between 0 and 100."),
            ),
            models.CheckConstraint(
                condition=Q(progress_rule=CommitmentProgressRule.NONE, progress__isnull=True)
                | Q(progress_rule__in=[CommitmentProgressRule.MILESTONES, CommitmentProgressRule.INDICATORS])
                & Q(progress__isnull=False),
                name="commitment_progress_has_rule",
                violation_error_message=_("A progress figure always names the rule that produced it."),
            ),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True)
                | Q(end_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="commitment_dates_ordered",
                violation_error_message=_("The end date cannot come before the start date."),
            ),
        ]

    def __str__(self) -> str:
        return _("Commitment %(number)s: %(title)s") % {"number": self.number, "title": self.title}

    def get_absolute_url(self) -> str:
        return path_to("commitments:detail", self.plan.slug, self.number)

    @property
    def completion_label(self) -> str:
        # get_completion_display() rebuilds the field's choices at each call, and lists show dozens (issue 9); the
        # check constraint commitment_completion_valid keeps the value one of them.
        return CommitmentCompletion(self.completion).label

    def clean(self) -> None:
        if self.axis_id and self.plan_id and self.axis.plan_id != self.plan_id:
            raise ValidationError({"axis": _("The axis must belong to the commitment's plan.")})
        if self.predecessor_id and self.predecessor_id == self.pk:
            raise ValidationError({"predecessor": _("A commitment cannot be its own predecessor.")})


def within_editable_commitments(queryset: models.QuerySet, user: Any, path: str) -> models.QuerySet:
    """Scope any queryset to the commitments a person may update, through the lookup `path` to them."""
    from accounts.permissions import roles_of  # accounts.models imports this module

    roles = roles_of(user)
    if roles.sees_everything:
        return queryset
    if not roles.is_editor:
        return queryset.none()
    carried = Carrier.objects.filter(administration_id__in=roles.administration_ids).values("commitment_id")
    return queryset.filter(**{f"{path}__in": carried})


class CarrierQuerySet(models.QuerySet):
    def editable_by(self, user: Any) -> "CarrierQuerySet":
        return within_editable_commitments(self, user, "commitment")

    def shown(self) -> "CarrierQuerySet":
        """The carriers of a commitment as its pages and the API list them, with their administration: the lead
        first, then by name. For a prefetch, which reads them a commitment at a time: the default order starts
        with the commitment, which joined each commitment and its plan to sort by them."""
        return self.select_related("administration").order_by("role", "administration__name", "pk")


class Carrier(models.Model):
    """An administration carrying a commitment, as lead or in support."""

    commitment = models.ForeignKey(
        Commitment, verbose_name=_("commitment"), on_delete=models.CASCADE, related_name="carriers"
    )
    administration = models.ForeignKey(
        Administration, verbose_name=_("administration"), on_delete=models.PROTECT, related_name="carriers"
    )
    role = models.CharField(_("role"), max_length=10, choices=CarrierRole.choices, default=CarrierRole.LEAD)

    history = HistoricalRecords(bases=[HistoryAdministration])
    objects = CarrierQuerySet.as_manager()

    class Meta:
        verbose_name = _("carrier")
        verbose_name_plural = _("carriers")
        ordering = ["commitment", "role", "administration__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["commitment", "administration"],
                name="carrier_unique_per_commitment",
                violation_error_message=_("This administration already carries this commitment."),
            ),
            choices_check("role", CarrierRole, "carrier_role_valid", _("A carrier is either lead or support.")),
        ]

    def __str__(self) -> str:
        return f"{self.administration} ({self.get_role_display()})"


class MilestoneQuerySet(models.QuerySet):
    def editable_by(self, user: Any) -> "MilestoneQuerySet":
        return within_editable_commitments(self, user, "commitment")

    def done(self) -> "MilestoneQuerySet":
        return self.filter(completed_on__isnull=False)

    def late(self, today: datetime.date) -> "MilestoneQuerySet":
        """Past their due date and not done."""
        return self.filter(due_date__lt=today, completed_on__isnull=True)


class Milestone(models.Model):
    commitment = models.ForeignKey(
        Commitment, verbose_name=_("commitment"), on_delete=models.CASCADE, related_name="milestones"
    )
    title = models.CharField(_("title"), max_length=500)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    weight = models.PositiveSmallIntegerField(
        _("weight"), default=1, help_text=_("Its share in the commitment's progress, relative to the other milestones.")
    )
    evidence_url = models.URLField(_("evidence link"), max_length=500, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    objects = MilestoneQuerySet.as_manager()
    history = HistoricalRecords(bases=[HistoryAdministration])

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["commitment", "position", "due_date", "pk"]
        # Lateness (MilestoneQuerySet.late, the is_late of every list of commitments) reads the milestones not
        # done: this index holds them alone, and not the done ones that pile up.
        indexes = [
            models.Index(
                fields=["commitment", "due_date"], condition=Q(completed_on__isnull=True), name="milestone_open"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(weight__gte=1),
                name="milestone_weight_positive",
                violation_error_message=_("A milestone weighs at least 1."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.completed_on is not None

    def is_late(self, today: datetime.date) -> bool:
        return self.completed_on is None and self.due_date is not None and self.due_date < today
