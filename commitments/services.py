"""Every change to plans, commitments and milestones goes through these functions."""

import datetime

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from commitments.models import Administration, CarrierRole, Commitment, CommitmentCompletion, Milestone
from commitments.progress import Progress, commitment_progress, indicator_progress
from indicators.models import Indicator

# A reason is public and shown beside the change: a sentence or two.
REASON_MAX_LENGTH = 1000


def check_reason(reason: str, *, field: str = "reason") -> None:
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(
            {field: _("A reason is at most %(limit)s characters long.") % {"limit": REASON_MAX_LENGTH}}
        )


def save_with_history(instance: models.Model, *, by: User | None, reason: str) -> None:
    """Validate and save, recording who made the change and why in the instance's history."""
    check_reason(reason)
    instance.full_clean()
    # django-simple-history reads these two attributes when it writes the history row.
    instance._history_user = by
    instance._change_reason = reason
    instance.save()


def delete_with_history(instance: models.Model, *, by: User | None, reason: str) -> None:
    """Delete, recording who removed the object and why in its history."""
    check_reason(reason)
    instance._history_user = by
    instance._change_reason = reason
    instance.delete()


def acting_administration(*, user: User | None, commitment: Commitment | None) -> Administration | None:
    """The administration a user acts for on a commitment: a carrying one first, lead before support."""
    if user is None or not user.is_authenticated:
        return None
    memberships = list(user.memberships.select_related("administration"))
    carriers = dict(commitment.carriers.values_list("administration_id", "role")) if commitment else {}
    carrying = [m for m in memberships if m.administration_id in carriers]
    if carrying:
        carrying.sort(key=lambda m: carriers[m.administration_id] != CarrierRole.LEAD)
        return carrying[0].administration
    return memberships[0].administration if memberships else None


def mark_updated(*, commitment: Commitment, by: User | None) -> None:
    """Stamp a commitment's freshness: when it last changed, and for which administration."""
    commitment.updated_at = timezone.now()
    commitment.updated_by = acting_administration(user=by, commitment=commitment)
    Commitment.objects.filter(pk=commitment.pk).update(
        updated_at=commitment.updated_at, updated_by=commitment.updated_by
    )


@transaction.atomic
def refresh_progress(*, commitment: Commitment) -> Progress:
    """Recompute a commitment's stored progress from its milestones, else its public indicators."""
    milestones = [
        (weight, done is not None) for weight, done in commitment.milestones.values_list("weight", "completed_on")
    ]
    indicators = Indicator.objects.public().filter(commitment=commitment).with_latest_value()
    shares = [
        indicator_progress(baseline=i.baseline_value, target=i.target_value, latest=i.latest_value) for i in indicators
    ]
    progress = commitment_progress(milestones=milestones, indicator_shares=shares)
    # A derived figure: stored without a history row of its own, its causes have one.
    Commitment.objects.filter(pk=commitment.pk).update(progress=progress.percent, progress_rule=progress.rule)
    commitment.progress, commitment.progress_rule = progress.percent, progress.rule
    return progress


@transaction.atomic
def set_completion(
    *, commitment: Commitment, completion: str, progress_note: str, by: User | None, reason: str = ""
) -> Commitment:
    """Set a commitment's completion on the OGP scale, with the public note that explains it."""
    if completion not in CommitmentCompletion.values:
        raise ValidationError({"completion": _("Completion must be one of the OGP levels.")})
    commitment.completion = completion
    commitment.progress_note = progress_note
    save_with_history(commitment, by=by, reason=reason)
    mark_updated(commitment=commitment, by=by)
    return commitment


@transaction.atomic
def add_milestone(
    *,
    commitment: Commitment,
    title: str,
    due_date: datetime.date | None = None,
    weight: int = 1,
    by: User | None,
    reason: str = "",
) -> Milestone:
    """Add a milestone to a commitment."""
    position = commitment.milestones.count()
    milestone = Milestone(commitment=commitment, title=title, due_date=due_date, weight=weight, position=position)
    save_with_history(milestone, by=by, reason=reason)
    refresh_progress(commitment=commitment)
    mark_updated(commitment=commitment, by=by)
    return milestone


@transaction.atomic
def mark_milestone_done(
    *,
    milestone: Milestone,
    completed_on: datetime.date,
    evidence_url: str = "",
    by: User | None,
    reason: str = "",
) -> Milestone:
    """Mark a milestone done on a date, with the link that shows it."""
    if completed_on > timezone.localdate():
        raise ValidationError({"completed_on": _("A milestone cannot be done on a date still to come.")})
    milestone.completed_on = completed_on
    milestone.evidence_url = evidence_url
    save_with_history(milestone, by=by, reason=reason)
    refresh_progress(commitment=milestone.commitment)
    mark_updated(commitment=milestone.commitment, by=by)
    return milestone
