"""One refresh of an indicator: read its source, record what changed, and log the outcome.

The same function runs in a Celery worker, in the `refresh_indicators` command and behind the
admin's buttons. It can run twice for the same reading without harm (a task is run again when its
worker dies before acknowledging it): a value equal to the latest one is "unchanged" and adds
nothing, and the indicator's row is locked while the reading is compared and written.
"""

import datetime
import logging
import time
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Min, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from indicators.fetch import SourceError
from indicators.models import (
    Indicator,
    IndicatorRefresh,
    IndicatorRefreshOutcome,
    IndicatorValue,
    IndicatorValueOrigin,
    plain_number,
)
from indicators.services import correct_value, record_value
from indicators.sources import describe_source, read_source

logger = logging.getLogger("opengov.indicators")


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


# Values are stored with 4 decimals and 16 digits before the point (IndicatorValue.value).
_STORED_PLACES = Decimal("0.0001")
_STORED_LIMIT = Decimal(10) ** 16


def storable(value: Decimal) -> Decimal:
    """The reading as it will be stored, so that comparing it with the latest value compares like with like."""
    rounded = value.quantize(_STORED_PLACES, rounding=ROUND_HALF_UP) if abs(value) < _STORED_LIMIT else value
    if abs(rounded) >= _STORED_LIMIT:
        raise SourceError(
            _("%(value)s is too large to be stored (at most 16 digits before the decimal point).")
            % {"value": plain_number(value)}
        )
    return rounded


def read_value(indicator: Indicator) -> Decimal:
    """What a refresh would record now: the source's number as stored, within the indicator's bounds.

    Every failure is a SourceError, a fault of ours included (logged with its traceback), so that the
    refresh logs an outcome and the admin's test shows a sentence rather than an error page."""
    try:
        value = storable(read_source(indicator))
    except SourceError:
        raise
    except Exception as error:
        logger.exception("Unexpected error while reading the source of indicator %s", indicator.pk)
        raise SourceError(
            _("An unexpected error occurred while reading the source; it is in the server's log.")
        ) from error
    out_of_bounds = indicator.bounds_error(value)
    if out_of_bounds:
        raise SourceError(out_of_bounds)
    return value


def refresh_indicator(
    indicator_id: int, *, trigger: str, attempt: int = 1, may_retry: bool = False
) -> IndicatorRefresh | None:
    """Read the indicator's source once. Returns the logged refresh, or None if the indicator is gone."""
    started_at, started = timezone.now(), time.monotonic()
    indicator = Indicator.objects.select_related("commitment").filter(pk=indicator_id).first()
    if indicator is None:
        return None
    try:
        value = read_value(indicator)
    except SourceError as error:
        return record_failure(
            indicator,
            error,
            trigger=trigger,
            attempt=attempt,
            will_retry=error.transient and may_retry,
            started_at=started_at,
            duration_ms=_elapsed_ms(started),
        )
    return _record_reading(indicator, value, trigger=trigger, attempt=attempt, started_at=started_at, started=started)


@transaction.atomic
def _record_reading(
    indicator: Indicator, value: Decimal, *, trigger: str, attempt: int, started_at, started: float
) -> IndicatorRefresh:
    # The lock makes a second run of the same refresh wait, then find the value already there.
    # of=("self",): only the indicator's row. Locking the joined commitment (and plan) too would make
    # every refresh of the same plan wait for the others (seen in bench/refresh.sh with two workers).
    indicator = Indicator.objects.select_for_update(of=("self",)).select_related("commitment").get(pk=indicator.pk)
    today = timezone.localdate()
    latest = IndicatorValue.objects.filter(indicator=indicator).order_by("-date").first()
    shown = plain_number(value)
    if latest is not None and latest.value == value:
        outcome = IndicatorRefreshOutcome.UNCHANGED
        message = _("The source still gives %(value)s.") % {"value": shown}
    elif latest is not None and latest.date == today and latest.origin != IndicatorValueOrigin.AUTOMATIC:
        # A person recorded today's figure: a reading never overwrites it.
        outcome = IndicatorRefreshOutcome.UNCHANGED
        message = _("The source gives %(value)s; today's value, recorded by a person, is kept.") % {"value": shown}
    elif latest is not None and latest.date == today:
        correct_value(
            indicator_value=latest,
            value=value,
            by=None,
            reason=_("Read again from the source the same day: %(old)s became %(new)s.")
            % {"old": plain_number(latest.value), "new": shown},
        )
        outcome = IndicatorRefreshOutcome.NEW_VALUE
        message = _("Today's value is now %(value)s.") % {"value": shown}
    else:
        record_value(indicator=indicator, date=today, value=value, origin=IndicatorValueOrigin.AUTOMATIC, by=None)
        outcome = IndicatorRefreshOutcome.NEW_VALUE
        message = _("New value: %(value)s.") % {"value": shown}
    now = timezone.now()
    Indicator.objects.filter(pk=indicator.pk).update(
        last_refresh_at=now,
        last_refresh_outcome=outcome,
        last_refresh_message=message,
        last_read_at=now,
        consecutive_failures=0,
    )
    refresh = IndicatorRefresh.objects.create(
        indicator=indicator,
        started_at=started_at,
        duration_ms=_elapsed_ms(started),
        outcome=outcome,
        value=value,
        message=message,
        trigger=trigger,
        attempt=attempt,
    )
    logger.info("Indicator %s refreshed: %s (%s)", indicator.pk, outcome, shown)
    return refresh


@transaction.atomic
def record_failure(
    indicator: Indicator,
    error: SourceError,
    *,
    trigger: str,
    attempt: int,
    will_retry: bool,
    started_at,
    duration_ms: int,
) -> IndicatorRefresh:
    """Log a failed reading; the last good value stays and nothing is added."""
    message = _("Indicator “%(name)s” (no. %(id)s), source %(source)s: %(error)s") % {
        "name": indicator.name,
        "id": indicator.pk,
        "source": describe_source(indicator),
        "error": error.message,
    }
    if will_retry:
        message += " " + _("It will be tried again shortly.")
    locked = Indicator.objects.select_for_update().get(pk=indicator.pk)
    # Only a refresh that gives up counts towards the "failing" flag; its retries do not.
    failures = locked.consecutive_failures + (0 if will_retry else 1)
    Indicator.objects.filter(pk=indicator.pk).update(
        last_refresh_at=timezone.now(),
        last_refresh_outcome=IndicatorRefreshOutcome.ERROR,
        last_refresh_message=message,
        consecutive_failures=failures,
    )
    logger.warning("Indicator %s refresh failed (attempt %s, retry=%s): %s", indicator.pk, attempt, will_retry, message)
    return IndicatorRefresh.objects.create(
        indicator=indicator,
        started_at=started_at,
        duration_ms=duration_ms,
        outcome=IndicatorRefreshOutcome.ERROR,
        message=message,
        trigger=trigger,
        attempt=attempt,
        will_retry=will_retry,
    )


# Each indicator keeps its latest readings in the log whatever their age, and its page in the workspace lists as many
# (indicators.admin.RECENT_REFRESHES): an indicator read once a year still shows how its last readings went.
KEPT_REFRESHES = 10
# Indicators whose old readings one DELETE removes: each its own short transaction, so that a first pruning of
# millions of rows never holds one long lock nor one huge transaction.
PRUNE_INDICATORS = 1000


def prune_refresh_log(*, now: datetime.datetime) -> int:
    """Delete the readings logged more than REFRESH_LOG_RETENTION_DAYS ago, but each indicator's KEPT_REFRESHES
    latest; returns how many.

    Every reading adds a row, and a daily reading of 40,000 indicators adds 15 million a year: the log says how the
    sources behave lately. What a reading found stays: a value read is an IndicatorValue, kept with its history."""
    limit = now - datetime.timedelta(days=settings.REFRESH_LOG_RETENTION_DAYS)
    latest = IndicatorRefresh.objects.filter(indicator=OuterRef("indicator")).order_by("-started_at", "-pk")
    # The start of the indicator's KEPT_REFRESHES-th latest reading; NULL (nothing older goes) when it has fewer.
    kept_from = Subquery(latest.values("started_at")[KEPT_REFRESHES - 1 : KEPT_REFRESHES])
    old = IndicatorRefresh.objects.filter(started_at__lt=limit)
    bounds = old.aggregate(first=Min("indicator_id"), last=Max("indicator_id"))
    if bounds["first"] is None:
        return 0
    deleted = 0
    for start in range(bounds["first"], bounds["last"] + 1, PRUNE_INDICATORS):
        chunk = old.filter(indicator_id__gte=start, indicator_id__lt=start + PRUNE_INDICATORS, started_at__lt=kept_from)
        # One DELETE, rather than delete(), which loads every row to send each its post_delete signal: the page
        # cache listens to it, and no public page reads a reading this old (each indicator's latest ones stay).
        deleted += chunk._raw_delete(chunk.db)
    if deleted:
        logger.info("Refresh log pruned: %s readings older than %s removed", deleted, limit.date())
    return deleted
