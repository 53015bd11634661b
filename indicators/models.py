import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from commitments.models import Commitment, HistoryAdministration, choices_check, validate_sources


class IndicatorDirection(models.TextChoices):
    INCREASE = "increase", _("Should increase")
    DECREASE = "decrease", _("Should decrease")


class IndicatorSourceKind(models.TextChoices):
    MANUAL = "manual", _("Entered by people")
    JSON = "json", _("JSON over HTTP(S)")
    CSV = "csv", _("CSV over HTTP(S)")
    COMPUTED = "computed", _("Computed from the tracker's own data")


class IndicatorRowRule(models.TextChoices):
    """Which row of a CSV source holds the figure."""

    LAST = "last", _("Last row")
    SUM = "sum", _("Sum of the column")
    MATCH = "match", _("Row where a column equals a value")


class IndicatorRefreshOutcome(models.TextChoices):
    NEVER = "never", _("Never read")
    NEW_VALUE = "new_value", _("New value")
    UNCHANGED = "unchanged", _("Unchanged")
    ERROR = "error", _("Error")


class IndicatorValueOrigin(models.TextChoices):
    MANUAL = "manual", _("Entered by hand")
    AUTOMATIC = "automatic", _("Read from the source")
    IMPORT = "import", _("Imported from a file")


class IndicatorQuerySet(models.QuerySet):
    def public(self) -> "IndicatorQuerySet":
        return self.filter(is_public=True)

    def automatic(self) -> "IndicatorQuerySet":
        return self.exclude(source_kind=IndicatorSourceKind.MANUAL)

    def due(self, now: datetime.datetime) -> "IndicatorQuerySet":
        """Automatic indicators never read, or last read at least one interval ago."""
        return self.automatic().filter(
            Q(last_refresh_at__isnull=True) | Q(last_refresh_at__lte=now - F("refresh_interval"))
        )

    def with_latest_value(self) -> "IndicatorQuerySet":
        """Annotate latest_value and latest_value_date, in the same query."""
        latest = IndicatorValue.objects.filter(indicator=OuterRef("pk")).order_by("-date")
        return self.annotate(
            latest_value=Subquery(latest.values("value")[:1]),
            latest_value_date=Subquery(latest.values("date")[:1]),
        )


class Indicator(models.Model):
    commitment = models.ForeignKey(
        Commitment, verbose_name=_("commitment"), on_delete=models.CASCADE, related_name="indicators"
    )
    name = models.CharField(_("name"), max_length=300)
    unit = models.CharField(_("unit"), max_length=50, blank=True, help_text=_("For example “datasets” or “%”."))
    description = models.TextField(_("description"), blank=True)
    baseline_value = models.DecimalField(_("baseline"), max_digits=20, decimal_places=4, null=True, blank=True)
    baseline_date = models.DateField(_("baseline date"), null=True, blank=True)
    target_value = models.DecimalField(_("target"), max_digits=20, decimal_places=4, null=True, blank=True)
    target_date = models.DateField(_("target date"), null=True, blank=True)
    direction = models.CharField(
        _("direction"), max_length=10, choices=IndicatorDirection.choices, default=IndicatorDirection.INCREASE
    )
    source_kind = models.CharField(
        _("source"), max_length=10, choices=IndicatorSourceKind.choices, default=IndicatorSourceKind.MANUAL
    )
    source_url = models.URLField(_("source URL"), max_length=1000, blank=True)
    source_selector = models.CharField(
        _("path or column"),
        max_length=200,
        blank=True,
        help_text=_("For JSON, the path to the number (data.total, results[0].value); for CSV, the column."),
    )
    source_row_rule = models.CharField(
        _("row rule"), max_length=10, choices=IndicatorRowRule.choices, default=IndicatorRowRule.LAST
    )
    source_match_column = models.CharField(_("match column"), max_length=200, blank=True)
    source_match_value = models.CharField(_("match value"), max_length=200, blank=True)
    refresh_interval = models.DurationField(_("refresh interval"), default=datetime.timedelta(days=1))
    is_public = models.BooleanField(_("public"), default=True)
    last_refresh_at = models.DateTimeField(_("last refresh"), null=True, blank=True, editable=False)
    last_refresh_outcome = models.CharField(
        _("last refresh outcome"),
        max_length=10,
        choices=IndicatorRefreshOutcome.choices,
        default=IndicatorRefreshOutcome.NEVER,
        editable=False,
    )
    last_read_at = models.DateTimeField(_("last successful read"), null=True, blank=True, editable=False)
    sources = models.JSONField(_("sources"), default=list, blank=True, validators=[validate_sources])

    objects = IndicatorQuerySet.as_manager()
    history = HistoricalRecords(
        excluded_fields=["last_refresh_at", "last_refresh_outcome", "last_read_at"], bases=[HistoryAdministration]
    )

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["commitment", "name"]
        constraints = [
            choices_check(
                "direction", IndicatorDirection, "indicator_direction_valid", _("An indicator increases or decreases.")
            ),
            choices_check(
                "source_kind",
                IndicatorSourceKind,
                "indicator_source_kind_valid",
                _("This kind of source does not exist."),
            ),
            choices_check(
                "source_row_rule", IndicatorRowRule, "indicator_row_rule_valid", _("This row rule does not exist.")
            ),
            # The target lies on the side the direction says, so that progress reads the same way.
            models.CheckConstraint(
                condition=Q(baseline_value__isnull=True)
                | Q(target_value__isnull=True)
                | Q(direction=IndicatorDirection.INCREASE, target_value__gt=F("baseline_value"))
                | Q(direction=IndicatorDirection.DECREASE, target_value__lt=F("baseline_value")),
                name="indicator_target_beyond_baseline",
                violation_error_message=_(
                    "The target must be above the baseline for an indicator that should increase, "
                    "and below it for one that should decrease."
                ),
            ),
            models.CheckConstraint(
                condition=Q(source_kind__in=[IndicatorSourceKind.MANUAL, IndicatorSourceKind.COMPUTED])
                | ~Q(source_url=""),
                name="indicator_remote_source_has_url",
                violation_error_message=_("A JSON or CSV source needs its URL."),
            ),
            models.CheckConstraint(
                condition=Q(refresh_interval__gt=datetime.timedelta(0)),
                name="indicator_refresh_interval_positive",
                violation_error_message=_("The refresh interval must be longer than zero."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("indicators:detail", args=[self.commitment.plan.slug, self.commitment.number, self.pk])


class IndicatorValue(models.Model):
    """One dated figure; a correction replaces it, and the history keeps the old value and why."""

    indicator = models.ForeignKey(
        Indicator, verbose_name=_("indicator"), on_delete=models.CASCADE, related_name="values"
    )
    date = models.DateField(_("date"))
    value = models.DecimalField(_("value"), max_digits=20, decimal_places=4)
    origin = models.CharField(
        _("origin"), max_length=10, choices=IndicatorValueOrigin.choices, default=IndicatorValueOrigin.MANUAL
    )
    note = models.TextField(_("note"), blank=True, help_text=_("A correction says why."))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    history = HistoricalRecords(bases=[HistoryAdministration])

    class Meta:
        verbose_name = _("indicator value")
        verbose_name_plural = _("indicator values")
        ordering = ["indicator", "-date"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "date"],
                name="indicatorvalue_one_per_date",
                violation_error_message=_("This indicator already has a value on this date; correct it instead."),
            ),
            choices_check(
                "origin", IndicatorValueOrigin, "indicatorvalue_origin_valid", _("This origin does not exist.")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} — {self.date}: {self.value}"
