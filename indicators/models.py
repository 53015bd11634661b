import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from commitments.models import (
    Commitment,
    HistoryAdministration,
    choices_check,
    validate_sources,
    within_editable_commitments,
)
from opengov.addresses import path_to


class IndicatorDirection(models.TextChoices):
    INCREASE = "increase", _("Should increase")
    DECREASE = "decrease", _("Should decrease")


class IndicatorSourceFormat(models.TextChoices):
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


class IndicatorRefreshTrigger(models.TextChoices):
    SCHEDULE = "schedule", _("Scheduled")
    ADMIN = "admin", _("Asked for in the admin")
    COMMAND = "command", _("Command line")


class IndicatorValueOrigin(models.TextChoices):
    MANUAL = "manual", _("Entered by hand")
    AUTOMATIC = "automatic", _("Read from the source")
    IMPORT = "import", _("Imported from a file")


# A refresh still waiting this long after it was queued is presumed lost (its message expired with a
# stopped broker, say) and may be queued again; a task's own time limit is far shorter.
REQUEUE_AFTER = datetime.timedelta(minutes=30)
# Refreshes that end in an error this many times in a row flag the indicator as failing.
FAILING_AFTER = 3


class IndicatorQuerySet(models.QuerySet):
    def editable_by(self, user: Any) -> "IndicatorQuerySet":
        return within_editable_commitments(self, user, "commitment")

    def public(self) -> "IndicatorQuerySet":
        return self.filter(is_public=True)

    def automatic(self) -> "IndicatorQuerySet":
        return self.exclude(source_format=IndicatorSourceFormat.MANUAL)

    def due(self, now: datetime.datetime) -> "IndicatorQuerySet":
        """Automatic indicators never read, or last read at least one interval ago, and not already waiting
        in the queue: a refresh queued within REQUEUE_AFTER and not yet run is not queued twice."""
        return (
            self.automatic()
            .filter(Q(last_refresh_at__isnull=True) | Q(last_refresh_at__lte=now - F("refresh_interval")))
            .exclude(
                Q(refresh_queued_at__gt=now - REQUEUE_AFTER)
                & (Q(last_refresh_at__isnull=True) | Q(last_refresh_at__lt=F("refresh_queued_at")))
            )
        )

    def failing(self) -> "IndicatorQuerySet":
        return self.filter(consecutive_failures__gte=FAILING_AFTER)

    def with_latest_value(self) -> "IndicatorQuerySet":
        """Annotate latest_value and latest_value_date, in the same query."""
        latest = IndicatorValue.objects.filter(indicator=OuterRef("pk")).order_by("-date")
        return self.annotate(
            latest_value=Subquery(latest.values("value")[:1]),
            latest_value_date=Subquery(latest.values("date")[:1]),
        )


def plain_number(value: Decimal) -> str:
    """A figure as people write it in a message: 100, 12.5 (never 1E+2 or 12.5000)."""
    return f"{value.normalize():f}"


# Kept up to date by the refreshes themselves, which have their own log (IndicatorRefresh): not history.
REFRESH_STATE_FIELDS = (
    "last_refresh_at",
    "last_refresh_outcome",
    "last_refresh_message",
    "last_read_at",
    "consecutive_failures",
    "refresh_queued_at",
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
    source_format = models.CharField(
        _("source"), max_length=10, choices=IndicatorSourceFormat.choices, default=IndicatorSourceFormat.MANUAL
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
    minimum_value = models.DecimalField(
        _("lowest possible value"),
        max_digits=20,
        decimal_places=4,
        null=True,
        blank=True,
        default=0,
        help_text=_("Values below it are refused, for example 0 for a count. Empty: no lower bound."),
    )
    maximum_value = models.DecimalField(
        _("highest possible value"),
        max_digits=20,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("Values above it are refused, for example 100 for a percentage. Empty: no upper bound."),
    )
    is_public = models.BooleanField(_("public"), default=True)
    last_refresh_at = models.DateTimeField(_("last refresh"), null=True, blank=True, editable=False)
    last_refresh_outcome = models.CharField(
        _("last refresh outcome"),
        max_length=10,
        choices=IndicatorRefreshOutcome.choices,
        default=IndicatorRefreshOutcome.NEVER,
        editable=False,
    )
    last_refresh_message = models.TextField(_("last refresh message"), blank=True, editable=False)
    last_read_at = models.DateTimeField(_("last successful read"), null=True, blank=True, editable=False)
    consecutive_failures = models.PositiveIntegerField(_("failed refreshes in a row"), default=0, editable=False)
    refresh_queued_at = models.DateTimeField(_("refresh queued at"), null=True, blank=True, editable=False)
    sources = models.JSONField(_("sources"), default=list, blank=True, validators=[validate_sources])

    objects = IndicatorQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=[*REFRESH_STATE_FIELDS], bases=[HistoryAdministration])

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["commitment", "name"]
        # The API's list of public indicators and its count read this index alone, in the list's order.
        indexes = [models.Index(fields=["id"], condition=Q(is_public=True), name="indicator_public")]
        constraints = [
            choices_check(
                "direction", IndicatorDirection, "indicator_direction_valid", _("An indicator increases or decreases.")
            ),
            choices_check(
                "source_format",
                IndicatorSourceFormat,
                "indicator_source_format_valid",
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
                condition=Q(source_format__in=[IndicatorSourceFormat.MANUAL, IndicatorSourceFormat.COMPUTED])
                | ~Q(source_url=""),
                name="indicator_remote_source_has_url",
                violation_error_message=_("A JSON or CSV source needs its URL."),
            ),
            models.CheckConstraint(
                condition=Q(minimum_value__isnull=True)
                | Q(maximum_value__isnull=True)
                | Q(maximum_value__gt=F("minimum_value")),
                name="indicator_bounds_ordered",
                violation_error_message=_("The highest possible value must be above the lowest."),
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
        return path_to("indicators:detail", self.commitment.plan.slug, self.commitment.number, self.pk)

    @property
    def is_automatic(self) -> bool:
        return self.source_format != IndicatorSourceFormat.MANUAL

    @property
    def is_failing(self) -> bool:
        return self.consecutive_failures >= FAILING_AFTER

    def bounds_error(self, value: Decimal) -> str | None:
        """Why a value cannot be one of this indicator's, or None when it can."""
        if self.minimum_value is not None and value < self.minimum_value:
            return _("%(value)s is below %(minimum)s, the lowest possible value of “%(indicator)s”.") % {
                "value": plain_number(value),
                "minimum": plain_number(self.minimum_value),
                "indicator": self.name,
            }
        if self.maximum_value is not None and value > self.maximum_value:
            return _("%(value)s is above %(maximum)s, the highest possible value of “%(indicator)s”.") % {
                "value": plain_number(value),
                "maximum": plain_number(self.maximum_value),
                "indicator": self.name,
            }
        return None


class IndicatorValueQuerySet(models.QuerySet):
    def editable_by(self, user: Any) -> "IndicatorValueQuerySet":
        return within_editable_commitments(self, user, "indicator__commitment")


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
    objects = IndicatorValueQuerySet.as_manager()

    class Meta:
        verbose_name = _("indicator value")
        verbose_name_plural = _("indicator values")
        ordering = ["indicator", "-date"]
        # The API's filters of its list of values: a date range, and updated_since (what was recorded since then).
        # The list's order, (indicator, date), has the index of the unique constraint below.
        indexes = [
            models.Index(fields=["date"], name="indicatorvalue_date"),
            models.Index(fields=["recorded_at"], name="indicatorvalue_recorded_at"),
        ]
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


class IndicatorRefreshQuerySet(models.QuerySet):
    def editable_by(self, user: Any) -> "IndicatorRefreshQuerySet":
        return within_editable_commitments(self, user, "indicator__commitment")


class IndicatorRefresh(models.Model):
    """One reading of an indicator's source and what came of it: the log behind the admin and the flag."""

    indicator = models.ForeignKey(
        Indicator, verbose_name=_("indicator"), on_delete=models.CASCADE, related_name="refreshes"
    )
    started_at = models.DateTimeField(_("started at"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=IndicatorRefreshOutcome.choices)
    value = models.DecimalField(_("value read"), max_digits=20, decimal_places=4, null=True, blank=True)
    message = models.TextField(_("message"), blank=True)
    trigger = models.CharField(_("trigger"), max_length=10, choices=IndicatorRefreshTrigger.choices)
    attempt = models.PositiveSmallIntegerField(_("attempt"), default=1)
    will_retry = models.BooleanField(_("will be tried again"), default=False)

    objects = IndicatorRefreshQuerySet.as_manager()

    class Meta:
        verbose_name = _("indicator refresh")
        verbose_name_plural = _("indicator refreshes")
        ordering = ["-started_at", "-pk"]
        indexes = [
            models.Index(fields=["indicator", "-started_at"], name="indicatorrefresh_latest"),
            # The log's own order, in which the workspace lists it, and the retention's cut (prune_refresh_log).
            models.Index(fields=["-started_at", "-id"], name="indicatorrefresh_recent"),
        ]
        constraints = [
            choices_check(
                "outcome",
                IndicatorRefreshOutcome,
                "indicatorrefresh_outcome_valid",
                _("This outcome does not exist."),
            ),
            choices_check(
                "trigger",
                IndicatorRefreshTrigger,
                "indicatorrefresh_trigger_valid",
                _("This trigger does not exist."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} — {self.started_at:%Y-%m-%d %H:%M}: {self.get_outcome_display()}"
