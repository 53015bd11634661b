"""What every history row records beyond django-simple-history's who, when and why."""

from typing import Any

from django.db import models
from django.dispatch import receiver
from simple_history.signals import pre_create_historical_record

from commitments.models import Commitment
from commitments.services import acting_administration


def commitment_of(instance: models.Model) -> Commitment | None:
    """The commitment a changed object belongs to, if any."""
    if isinstance(instance, Commitment):
        return instance
    if getattr(instance, "commitment_id", None):
        return instance.commitment
    indicator = getattr(instance, "indicator", None)
    return indicator.commitment if indicator is not None else None


# django-simple-history offers this signal as its extension point; no domain state changes here.
@receiver(pre_create_historical_record)
def record_acting_administration(
    sender: type, instance: models.Model, history_instance: models.Model, history_user: Any, **kwargs: Any
) -> None:
    if not hasattr(history_instance, "history_administration_id") or history_user is None:
        return
    # A service that knows for whom the change is made says so (an answer names its administration).
    named = getattr(instance, "_history_administration", None)
    if named is not None:
        history_instance.history_administration = named
        return
    commitment = commitment_of(instance)
    if isinstance(instance, Commitment) and instance.pk is None:
        commitment = None  # a new commitment has no carriers yet
    history_instance.history_administration = acting_administration(user=history_user, commitment=commitment)
