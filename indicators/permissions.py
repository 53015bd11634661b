"""Who may change an indicator and its values: the predicates the admin, the API and the imports call."""

from typing import Any

from commitments.permissions import can_edit_commitment, can_edit_reference
from indicators.models import Indicator


def can_record_value(user: Any, indicator: Indicator) -> bool:
    """Recording, correcting and refreshing values is an everyday update of the carrying administration."""
    return can_edit_commitment(user, indicator.commitment)


def can_edit_indicator_definition(user: Any) -> bool:
    """An indicator's name, baseline, target, bounds and source are promises of the plan: coordinators'."""
    return can_edit_reference(user)
