"""Who may moderate and answer citizens' contributions: plain predicates that the admin and templates call."""

from typing import Any

from accounts.permissions import is_coordinator, roles_of
from commitments.models import Administration, Carrier
from forums.models import Contribution


def can_moderate(user: Any) -> bool:
    """Coordinators publish or reject what citizens send; administrations never judge what is said to them."""
    return is_coordinator(user)


def answering_administrations(user: Any, contribution: Contribution) -> list[Administration]:
    """The administrations a person may answer a contribution for.

    Editors answer for an administration they belong to that carries the commitment. Coordinators may
    answer for any carrier (a reply received by post, say), and for anyone when no administration carries
    it (a forum's question, a commitment without carriers)."""
    roles = roles_of(user)
    if not contribution.is_published or not (roles.sees_everything or roles.is_editor):
        return []
    if contribution.commitment_id is None:
        return list(Administration.objects.all()) if roles.sees_everything else []
    carriers = Carrier.objects.filter(commitment_id=contribution.commitment_id).select_related("administration")
    administrations = [carrier.administration for carrier in carriers.order_by("role", "administration__name")]
    if roles.sees_everything:
        # A commitment nobody carries yet is answered like a forum's question: by whoever coordinates names.
        return administrations or list(Administration.objects.all())
    return [administration for administration in administrations if administration.pk in roles.administration_ids]


def can_answer(user: Any, contribution: Contribution) -> bool:
    """Whether a person may write, or change, the answer to a published contribution."""
    if not contribution.is_published:
        return False
    roles = roles_of(user)
    if roles.sees_everything:
        return True
    if not roles.is_editor or contribution.commitment_id is None:
        return False
    return Carrier.objects.filter(
        commitment_id=contribution.commitment_id, administration_id__in=roles.administration_ids
    ).exists()
