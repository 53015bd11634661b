"""Who may change what: plain predicates that the API, the admin and the templates all call."""

from accounts.models import MembershipRole, User
from commitments.models import Carrier, Commitment


def can_edit_commitment(user: User, commitment: Commitment) -> bool:
    """A coordinator may edit every commitment; an editor only those their administration carries."""
    if not user.is_authenticated or not user.is_active:
        return False
    memberships = list(user.memberships.values_list("administration_id", "role"))
    if any(role == MembershipRole.COORDINATOR for _, role in memberships):
        return True
    administrations = [administration for administration, _ in memberships]
    return Carrier.objects.filter(commitment=commitment, administration__in=administrations).exists()
