"""Who may change what in the plans: plain predicates that the API, the admin and the templates all call."""

from typing import Any

from accounts.permissions import is_coordinator, roles_of
from commitments.models import Carrier, Commitment


def can_edit_reference(user: Any) -> bool:
    """Reference fields (plans, axes, titles, carriers, milestones' wording and dates) are the coordinators'."""
    return is_coordinator(user)


def can_edit_commitment(user: Any, commitment: Commitment) -> bool:
    """Everyday updates (values, milestones done, completion): coordinators, and editors of a carrier."""
    roles = roles_of(user)
    if roles.sees_everything:
        return True
    if not roles.is_editor or commitment.pk is None:
        return False
    return Carrier.objects.filter(commitment=commitment, administration_id__in=roles.administration_ids).exists()
