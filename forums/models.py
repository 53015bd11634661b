import datetime
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from commitments.models import (
    Administration,
    Carrier,
    Commitment,
    HistoryAdministration,
    choices_check,
    validate_sources,
    within_editable_commitments,
)
from opengov.addresses import path_to


class ForumQuerySet(models.QuerySet):
    def upcoming(self, today: datetime.date) -> "ForumQuerySet":
        # The key last: forums on the same day and hour keep one order, each on one page only.
        return self.filter(date__gte=today).order_by("date", "start_time", "pk")

    def past(self, today: datetime.date) -> "ForumQuerySet":
        return self.filter(date__lt=today).order_by("-date", "-start_time", "-pk")


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
        # gettext, not the lazy _: a list names tens of forums, and a lazy message costs a proxy at each step.
        label = gettext("Open d'État #%(number)s") % {"number": self.number} if self.number else gettext("Open d'État")
        return f"{label} — {self.title or date_format(self.date)}"

    def get_absolute_url(self) -> str:
        return path_to("forums:detail", self.pk)


# How long a contribution may be: a question or an idea, not an essay. Also checked by the database.
BODY_MAX_LENGTH = 4000
DISPLAY_NAME_MAX_LENGTH = 80


# Something that reads as an HTML tag: "<script>", "</a>", "<img src=…>", "<!--". Browsers read "<" before a
# space as text, so "a < b et 3 > 2" or "<3" stay allowed.
HTML_TAG = re.compile(r"</?[a-zA-Z!][^>]*>")
LINK = re.compile(r"(https?://|www\.)", re.IGNORECASE)
# Spam carries links; a citizen's question rarely needs more than a few.
MAX_LINKS = 3


def validate_plain_text(value: str) -> None:
    if HTML_TAG.search(value):
        raise ValidationError(_("Write plain text: HTML tags such as <script> or <a> are not accepted."), code="html")


def validate_few_links(value: str) -> None:
    if len(LINK.findall(value)) > MAX_LINKS:
        raise ValidationError(
            _("At most %(limit)s links are accepted in a contribution.") % {"limit": MAX_LINKS}, code="links"
        )


class ContributionKind(models.TextChoices):
    QUESTION = "question", _("Question")
    IDEA = "idea", _("Idea")
    COMMENT = "comment", _("Comment")


class ContributionState(models.TextChoices):
    PENDING = "pending", _("Awaiting moderation")
    PUBLISHED = "published", _("Published")
    REJECTED = "rejected", _("Rejected")


class AuthorNotice(models.TextChoices):
    """The last thing the author was told by e-mail, so that a task run twice tells them once."""

    NONE = "", _("Nothing yet")
    PUBLISHED = "published", _("Published")
    REJECTED = "rejected", _("Rejected")
    ANSWERED = "answered", _("Answered")


class ContributionQuerySet(models.QuerySet):
    def published(self) -> "ContributionQuerySet":
        return self.filter(state=ContributionState.PUBLISHED)

    def pending(self) -> "ContributionQuerySet":
        return self.filter(state=ContributionState.PENDING)

    def questions(self) -> "ContributionQuerySet":
        return self.filter(kind=ContributionKind.QUESTION)

    def answered(self) -> "ContributionQuerySet":
        return self.filter(answer__isnull=False)

    def unanswered(self) -> "ContributionQuerySet":
        return self.filter(answer__isnull=True)

    def addressed_to(self, administration_id: int) -> "ContributionQuerySet":
        """Contributions on the commitments an administration carries, as lead or support."""
        carried = Carrier.objects.filter(administration_id=administration_id).values("commitment_id")
        return self.filter(commitment_id__in=carried)

    def for_display(self) -> "ContributionQuerySet":
        return self.select_related("commitment__plan", "forum", "answer__administration")

    def editable_by(self, user: Any) -> "ContributionQuerySet":
        """Coordinators moderate everything; editors see the published ones on the commitments they carry,
        never what waits for moderation (it may hold what will not be published)."""
        from accounts.permissions import roles_of  # accounts.permissions is imported by the models' users

        if roles_of(user).sees_everything:
            return self
        return within_editable_commitments(self, user, "commitment").published()


class Contribution(models.Model):
    """A citizen's question, idea or comment on a commitment or a forum, sent without an account."""

    kind = models.CharField(_("kind"), max_length=20, choices=ContributionKind.choices)
    commitment = models.ForeignKey(
        Commitment,
        verbose_name=_("commitment"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contributions",
    )
    forum = models.ForeignKey(
        Forum, verbose_name=_("forum"), on_delete=models.PROTECT, null=True, blank=True, related_name="contributions"
    )
    body = models.TextField(
        _("text"),
        max_length=BODY_MAX_LENGTH,
        validators=[MaxLengthValidator(BODY_MAX_LENGTH), validate_plain_text, validate_few_links],
    )
    display_name = models.CharField(
        _("public name"), max_length=DISPLAY_NAME_MAX_LENGTH, blank=True, validators=[validate_plain_text]
    )
    # Private: used only to tell the author what became of their contribution, never shown or exported.
    email = models.EmailField(_("e-mail address"), blank=True)
    state = models.CharField(
        _("state"), max_length=20, choices=ContributionState.choices, default=ContributionState.PENDING
    )
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)
    created_at = models.DateTimeField(_("received at"), default=timezone.now)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    moderated_at = models.DateTimeField(_("moderated at"), null=True, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("moderated by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    author_notice = models.CharField(
        _("author told"), max_length=20, choices=AuthorNotice.choices, default=AuthorNotice.NONE, blank=True
    )
    answerers_told_at = models.DateTimeField(_("administrations told at"), null=True, blank=True)
    erased_at = models.DateTimeField(_("personal data erased at"), null=True, blank=True)

    objects = ContributionQuerySet.as_manager()
    # The e-mail address never enters the history, which is kept for good.
    history = HistoricalRecords(
        excluded_fields=["email", "author_notice", "answerers_told_at"], bases=[HistoryAdministration]
    )

    class Meta:
        verbose_name = _("contribution")
        verbose_name_plural = _("contributions")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["state", "-created_at"], name="contribution_state_created"),
            # The API's list, latest published first: a page is the start of this index, not a sort of them all.
            models.Index(
                fields=["-published_at", "-id"],
                condition=Q(state=ContributionState.PUBLISHED),
                name="contribution_published_latest",
            ),
            # The published questions by commitment: the questions page counts them, finds which administrations and
            # plans received one and works out their figures from this index alone (with what the figures read), a
            # probe per commitment rather than a read of every contribution (issue 9; docs/benchmarks.md).
            models.Index(
                fields=["commitment"],
                include=["id", "published_at"],
                condition=Q(state=ContributionState.PUBLISHED, kind=ContributionKind.QUESTION),
                name="contribution_question",
            ),
            # The latest erasure, which every answer reads for its Last-Modified (opengov.middleware): few rows.
            models.Index(fields=["erased_at"], condition=Q(erased_at__isnull=False), name="contribution_erased"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(commitment__isnull=False) | Q(forum__isnull=False),
                name="contribution_has_subject",
                violation_error_message=_("A contribution is about a commitment, a forum or both."),
            ),
            choices_check("kind", ContributionKind, "contribution_kind_valid", _("This kind does not exist.")),
            choices_check("state", ContributionState, "contribution_state_valid", _("This state does not exist.")),
            models.CheckConstraint(
                condition=~Q(state=ContributionState.PUBLISHED) | Q(published_at__isnull=False),
                name="contribution_published_dated",
                violation_error_message=_("A published contribution has its date of publication."),
            ),
            models.CheckConstraint(
                condition=~Q(state=ContributionState.REJECTED) | ~Q(rejection_reason=""),
                name="contribution_rejection_reasoned",
                violation_error_message=_("A rejection says why."),
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("body"), BODY_MAX_LENGTH),
                name="contribution_body_length",
                # Kept lazy, without interpolation: a formatted message is frozen in one language, and
                # makemigrations would then see a change wherever another language is active.
                violation_error_message=_("A contribution is at most 4000 characters long."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk or '—'} — {Truncator(self.body).chars(60)}"

    def get_absolute_url(self) -> str:
        """Where the contribution is shown: its commitment's page, else its forum's."""
        page = self.commitment.get_absolute_url() if self.commitment_id else self.forum.get_absolute_url()
        return f"{page}#contribution-{self.pk}"

    @property
    def is_published(self) -> bool:
        return self.state == ContributionState.PUBLISHED

    @property
    def is_question(self) -> bool:
        return self.kind == ContributionKind.QUESTION

    @property
    def kind_label(self) -> str:
        # get_kind_display() rebuilds the field's choices at each call: a seventh of a contribution's rendering,
        # and a page lists thirty (issue 9). The check constraint contribution_kind_valid keeps it one of them.
        return ContributionKind(self.kind).label

    @property
    def waiting_days(self) -> int | None:
        """Calendar days (in the site's time zone) a published question has awaited its answer; None otherwise.

        Read with the answer selected (`for_display`, `published_contributions_prefetch`): one query less each."""
        if not (self.is_published and self.is_question) or hasattr(self, "answer"):
            return None
        return (timezone.localdate() - timezone.localtime(self.published_at).date()).days


def commitments_discussed(forums: list[Forum], *columns: str) -> dict[int, list[tuple]]:
    """For each of these forums (by key), the `columns` of the commitments it discussed ("plan__slug", "number"...),
    in the commitments' own order: by plan, then number. Read as rows through the link table rather than as
    commitments and plans made into objects, which at the OGP scale cost more than the rest of a page (issue 9)."""
    rows = (
        Forum.commitments.through.objects.filter(forum__in=forums)
        .order_by("commitment")
        .values_list("forum_id", *(f"commitment__{column}" for column in columns))
    )
    discussed: dict[int, list[tuple]] = {forum.pk: [] for forum in forums}
    for forum_id, *values in rows:
        discussed[forum_id].append(tuple(values))
    return discussed


def published_contributions_prefetch() -> models.Prefetch:
    """A commitment's or forum's published contributions with their answers, oldest first, as
    `published_contributions`."""
    return models.Prefetch(
        "contributions",
        queryset=Contribution.objects.published().select_related("answer__administration").order_by("published_at"),
        to_attr="published_contributions",
    )


class AnswerQuerySet(models.QuerySet):
    def editable_by(self, user: Any) -> "AnswerQuerySet":
        """Coordinators see every answer; editors those on the commitments their administrations carry."""
        return within_editable_commitments(self, user, "contribution__commitment")


class Answer(models.Model):
    """An administration's public reply to a contribution."""

    contribution = models.OneToOneField(
        Contribution, verbose_name=_("contribution"), on_delete=models.CASCADE, related_name="answer"
    )
    administration = models.ForeignKey(
        Administration, verbose_name=_("administration"), on_delete=models.PROTECT, related_name="answers"
    )
    body = models.TextField(
        _("answer"), max_length=BODY_MAX_LENGTH, validators=[MaxLengthValidator(BODY_MAX_LENGTH), validate_plain_text]
    )
    answered_at = models.DateTimeField(_("answered at"), default=timezone.now)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("last changed at"), null=True, blank=True)

    objects = AnswerQuerySet.as_manager()
    history = HistoricalRecords(bases=[HistoryAdministration])

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ["-answered_at"]

    def __str__(self) -> str:
        return _("Answer of %(administration)s to %(contribution)s") % {
            "administration": self.administration,
            "contribution": self.contribution,
        }
