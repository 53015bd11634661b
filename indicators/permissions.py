"""Who may change an indicator and its values: the predicates the admin, the API and the imports call."""

from typing import Any

from accounts.permissions import can_use_workspace
from commitments.permissions import can_edit_commitment, can_edit_reference
from indicators.models import Indicator


def can_record_value(user: Any, indicator: Indicator) -> bool:
    """Recording, correcting and refreshing values is an everyday update of the carrying administration."""
    return can_edit_commitment(user, indicator.commitment)


def can_import_values(user: Any) -> bool:
    """The values' import, its template and the export: for workspace users who may update at least one indicator."""
    return can_use_workspace(user) and Indicator.objects.editable_by(user).exists()


def can_edit_indicator_definition(user: Any) -> bool:
    """An indicator's name, baseline, target, bounds and source are promises of the plan: coordinators'."""
    return can_edit_reference(user)
