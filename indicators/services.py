"""Every change to indicators and their values goes through these functions."""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from commitments.services import mark_updated, refresh_progress, save_with_history
from indicators.models import Indicator, IndicatorValue, IndicatorValueOrigin


@transaction.atomic
def record_value(
    *,
    indicator: Indicator,
    date: datetime.date,
    value: Decimal,
    origin: str = IndicatorValueOrigin.MANUAL,
    by: User | None,
    note: str = "",
) -> IndicatorValue:
    """Record an indicator's value on a date; a date that already has one must be corrected instead."""
    if date > timezone.localdate():
        raise ValidationError({"date": _("A value cannot be recorded for a date still to come.")})
    out_of_bounds = indicator.bounds_error(value)
    if out_of_bounds:
        raise ValidationError({"value": out_of_bounds})
    if IndicatorValue.objects.filter(indicator=indicator, date=date).exists():
        raise ValidationError({"date": _("This indicator already has a value on this date; correct it instead.")})
    indicator_value = IndicatorValue(
        indicator=indicator,
        date=date,
        value=value,
        origin=origin,
        note=note,
        recorded_by=by,
        recorded_at=timezone.now(),
    )
    save_with_history(indicator_value, by=by, reason=note)
    refresh_progress(commitment=indicator.commitment)
    mark_updated(commitment=indicator.commitment, by=by)
    return indicator_value


@transaction.atomic
def correct_value(*, indicator_value: IndicatorValue, value: Decimal, by: User | None, reason: str) -> IndicatorValue:
    """Replace a recorded value; the reason is required and public, the history keeps the old value."""
    if not reason.strip():
        raise ValidationError({"reason": _("A correction must say why the value changes.")})
    out_of_bounds = indicator_value.indicator.bounds_error(value)
    if out_of_bounds:
        raise ValidationError({"value": out_of_bounds})
    indicator_value.value = value
    indicator_value.note = reason
    indicator_value.recorded_by = by
    indicator_value.recorded_at = timezone.now()
    save_with_history(indicator_value, by=by, reason=reason)
    refresh_progress(commitment=indicator_value.indicator.commitment)
    mark_updated(commitment=indicator_value.indicator.commitment, by=by)
    return indicator_value
