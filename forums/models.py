import datetime

from django.db import models
from django.db.models import Q
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from commitments.models import Commitment, HistoryAdministration, validate_sources


class ForumQuerySet(models.QuerySet):
    def upcoming(self, today: datetime.date) -> "ForumQuerySet":
        return self.filter(date__gte=today).order_by("date", "start_time")

    def past(self, today: datetime.date) -> "ForumQuerySet":
        return self.filter(date__lt=today).order_by("-date", "-start_time")


class Forum(models.Model):
    """An "Open d'État" forum, where civil society questions the administrations."""

    number = models.PositiveSmallIntegerField(_("number"), null=True, blank=True)
    title = models.CharField(_("title"), max_length=300, blank=True)
    date = models.DateField(_("date"))
    start_time = models.TimeField(_("start time"), null=True, blank=True)
    end_time = models.TimeField(_("end time"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=300, blank=True)
    theme = models.TextField(_("theme"), blank=True)
    organisers = models.JSONField(_("organisers"), default=list, blank=True)
    commitments = models.ManyToManyField(
        Commitment, verbose_name=_("commitments discussed"), related_name="forums", blank=True
    )
    report_url = models.URLField(_("report"), max_length=500, blank=True)
    registration_url = models.URLField(_("registration"), max_length=500, blank=True)
    is_verified = models.BooleanField(
        _("verified"), default=True, help_text=_("Unticked when the item rests on a weaker source, named in the note.")
    )
    source_note = models.TextField(_("note on sources"), blank=True)
    sources = models.JSONField(_("sources"), default=list, blank=True, validators=[validate_sources])

    objects = ForumQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=[commitments], bases=[HistoryAdministration])

    class Meta:
        verbose_name = _("forum")
        verbose_name_plural = _("forums")
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(
                fields=["number"],
                condition=Q(number__isnull=False),
                name="forum_number_unique",
                violation_error_message=_("Another forum already has this number."),
            ),
            models.CheckConstraint(
                condition=Q(start_time__isnull=True)
                | Q(end_time__isnull=True)
                | Q(end_time__gt=models.F("start_time")),
                name="forum_times_ordered",
                violation_error_message=_("A forum ends after it starts."),
            ),
        ]

    def __str__(self) -> str:
        label = _("Open d'État #%(number)s") % {"number": self.number} if self.number else _("Open d'État")
        return f"{label} — {self.title or date_format(self.date)}"
