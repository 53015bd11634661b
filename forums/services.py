"""Every change to citizens' contributions and the administrations' answers goes through these functions."""

import datetime
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import User
from commitments.models import ActionPlanStatus, Administration, Commitment, ConsultationState
from commitments.services import check_reason, save_with_history
from forums.models import Answer, Contribution, ContributionKind, ContributionState, Forum
from forums.permissions import answering_administrations
from opengov.page_cache import data_changed_on_commit

# What replaces the text of a contribution withdrawn at its author's request, in the row and its history.
WITHDRAWN_TEXT = "—"


def check_open(*, kind: str, commitment: Commitment | None, forum: Forum | None, today: datetime.date) -> None:
    """Refuse a contribution the commitment or forum does not take today, saying when it would.

    Questions are taken on every published plan's commitments and on every forum: the dialogue goes on.
    Comments and ideas on a commitment are the consultation's, taken only while its plan's is open."""
    if commitment is None and forum is None:
        raise ValidationError(_("A contribution is about a commitment, a forum or both."))
    if commitment is None or forum is not None:
        return
    plan = commitment.plan
    if plan.status == ActionPlanStatus.DRAFT:
        raise ValidationError({"kind": _("This plan is a draft: it does not take contributions yet.")})
    if kind == ContributionKind.QUESTION:
        return
    state = plan.consultation_state(today)
    if state == ConsultationState.OPEN:
        return
    if state == ConsultationState.UPCOMING:
        message = _("Comments and ideas are taken during the consultation, which opens on %(date)s.") % {
            "date": date_format(plan.consultation_opens_on)
        }
    elif state == ConsultationState.CLOSED:
        message = _("Comments and ideas were taken during the consultation, which closed on %(date)s.") % {
            "date": date_format(plan.consultation_closes_on)
        }
    else:
        message = _("Comments and ideas are taken only while the plan is in consultation; questions are welcome.")
    raise ValidationError({"kind": message})


@transaction.atomic
def submit_contribution(
    *,
    kind: str,
    body: str,
    commitment: Commitment | None = None,
    forum: Forum | None = None,
    display_name: str = "",
    email: str = "",
) -> Contribution:
    """Receive a citizen's contribution; it waits for a coordinator's moderation before anyone sees it."""
    if kind not in ContributionKind.values:
        raise ValidationError({"kind": _("Kind: choose a question, an idea or a comment.")})
    check_open(kind=kind, commitment=commitment, forum=forum, today=timezone.localdate())
    contribution = Contribution(
        kind=kind,
        body=body.strip(),
        commitment=commitment,
        forum=forum,
        display_name=display_name.strip(),
        email=email.strip().lower(),
    )
    save_with_history(contribution, by=None, reason="")
    return contribution


def _locked(contribution: Contribution) -> Contribution:
    """The contribution as stored, locked: two coordinators moderating it at once take turns."""
    return Contribution.objects.select_for_update().get(pk=contribution.pk)


@transaction.atomic
def publish_contribution(*, contribution: Contribution, by: User) -> Contribution:
    """Publish a contribution; its author and the administrations that must answer are told by e-mail."""
    stored = _locked(contribution)
    if stored.erased_at is not None and stored.body == WITHDRAWN_TEXT:
        raise ValidationError(_("This contribution was withdrawn at its author's request."))
    if stored.state == ContributionState.PUBLISHED:
        return stored
    now = timezone.now()
    stored.state = ContributionState.PUBLISHED
    stored.published_at = now
    stored.moderated_at = now
    stored.moderated_by = by
    stored.rejection_reason = ""
    save_with_history(stored, by=by, reason=_("Published after moderation."))
    _queue_notices(stored)
    return stored


@transaction.atomic
def reject_contribution(*, contribution: Contribution, by: User, reason: str) -> Contribution:
    """Reject (or withdraw from the site) a contribution, saying why; the author, if known, is told."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Reason: say why the contribution is rejected; its author is told.")})
    check_reason(reason)
    stored = _locked(contribution)
    stored.state = ContributionState.REJECTED
    stored.rejection_reason = reason
    stored.moderated_at = timezone.now()
    stored.moderated_by = by
    # The reason goes to the author and stays in the workspace; no public page shows it (nor the rejected text).
    save_with_history(stored, by=by, reason=_("Rejected after moderation."))
    _queue_notices(stored)
    return stored


@transaction.atomic
def answer_contribution(
    *, contribution: Contribution, administration: Administration, body: str, by: User, reason: str = ""
) -> Answer:
    """Write an administration's public answer to a published contribution, or change it (saying why)."""
    stored = _locked(contribution)
    if not stored.is_published:
        raise ValidationError(_("Only a published contribution can be answered."))
    if administration not in answering_administrations(by, stored):
        raise ValidationError(
            {"administration": _("Administration: you may answer only for an administration that carries it.")}
        )
    answer = Answer.objects.filter(contribution=stored).first()
    if answer is None:
        answer = Answer(contribution=stored, answered_by=by, answered_at=timezone.now())
    else:
        if not reason.strip():
            raise ValidationError({"reason": _("Reason: say why the published answer changes; it is public.")})
        answer.updated_at = timezone.now()
    answer.administration = administration
    answer.body = body.strip()
    answer._history_administration = administration
    save_with_history(answer, by=by, reason=reason.strip())
    _queue_notices(stored)
    return answer


def _queue_notices(contribution: Contribution) -> None:
    """Queue, once the change is committed, the e-mails it calls for; each task finds out for itself what to send."""
    from forums import tasks  # tasks.py imports these services

    if contribution.email:
        transaction.on_commit(partial(tasks.queue_notice, tasks.tell_author, contribution.pk))
    if contribution.is_published and contribution.answerers_told_at is None:
        transaction.on_commit(partial(tasks.queue_notice, tasks.tell_answerers, contribution.pk))


def contributor_contributions(*, email: str = "", contribution_ids: list[int] | None = None) -> QuerySet:
    """A contributor's contributions, by their e-mail address (any case), their numbers, or both."""
    if not email.strip() and not contribution_ids:
        raise ValidationError(_("Name the contributions: an e-mail address or their numbers."))
    matching = Q(pk__in=contribution_ids or [])
    if email.strip():
        matching |= Q(email__iexact=email.strip())
    return Contribution.objects.filter(matching).order_by("pk")


@transaction.atomic
def erase_contributor(*, email: str = "", contribution_ids: list[int] | None = None, withdraw: bool = False) -> int:
    """Erase a contributor's personal data on request; returns how many contributions were touched.

    Their name and address go, in the rows and in every history row; with `withdraw`, their text goes too
    and the contribution leaves the site."""
    ids = list(contributor_contributions(email=email, contribution_ids=contribution_ids).values_list("pk", flat=True))
    fields = {"email": "", "display_name": "", "erased_at": timezone.now()}
    history_fields = {"display_name": ""}
    if withdraw:
        reason = _("Withdrawn at its author's request.")
        fields |= {"body": WITHDRAWN_TEXT, "state": ContributionState.REJECTED, "published_at": None}
        fields["rejection_reason"] = reason
        history_fields |= {"body": WITHDRAWN_TEXT, "rejection_reason": reason}
    # Rows are rewritten in place, without a new history row: a record of the data would defeat its erasure.
    Contribution.objects.filter(pk__in=ids).update(**fields)
    Contribution.history.filter(id__in=ids).update(**history_fields)
    # QuerySet.update sends no signal: the pages stored with the name must go now, not at the next change.
    data_changed_on_commit()
    return len(ids)


@transaction.atomic
def purge_expired_emails(*, now: datetime.datetime) -> int:
    """Forget authors' e-mail addresses kept longer than CONTRIBUTION_EMAIL_RETENTION_DAYS; returns how many."""
    limit = now - datetime.timedelta(days=settings.CONTRIBUTION_EMAIL_RETENTION_DAYS)
    return Contribution.objects.filter(created_at__lt=limit).exclude(email="").update(email="")
