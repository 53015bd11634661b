"""Celery tasks: the scheduled queuing of due refreshes, and one refresh.

Both can run twice without harm (acks_late: a task whose worker dies is delivered again). A refresh
is retried with a growing delay when its source fails in a way that may pass (time-out, refused
connection, 5xx), and not when retrying cannot help (4xx, content that is not a number).
"""

import random
from collections.abc import Iterable

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError

from indicators.fetch import SourceError
from indicators.models import Indicator, IndicatorRefreshTrigger
from indicators.refresh import prune_refresh_log, record_failure, refresh_indicator

MAX_RETRIES = 3
# Far above a reading's own bounds (connect + read time-outs), so that only a stuck worker reaches them.
SOFT_TIME_LIMIT = 60
TIME_LIMIT = 90
_QUEUE_CHUNK = 500


class QueueUnavailable(Exception):
    """The broker could not take the task; the message says so in words an administrator can act on."""


def retry_delay(retries: int) -> float:
    """Exponential backoff with jitter, so that a source that recovers is not hit by every retry at once."""
    base = settings.INDICATOR_RETRY_BASE_SECONDS * (2**retries)
    return base * random.uniform(0.8, 1.2)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=TIME_LIMIT,
    max_retries=MAX_RETRIES,
)
def refresh(self, indicator_id: int, trigger: str = IndicatorRefreshTrigger.SCHEDULE) -> str | None:
    retries = self.request.retries
    # In-process (no broker), a retry would run at once inside the caller's request: not worth it there.
    may_retry = retries < MAX_RETRIES and not self.request.is_eager
    try:
        result = refresh_indicator(indicator_id, trigger=trigger, attempt=retries + 1, may_retry=may_retry)
    except SoftTimeLimitExceeded:
        indicator = Indicator.objects.filter(pk=indicator_id).first()
        if indicator is None:
            return None
        error = SourceError(_("The refresh took longer than %(seconds)s seconds.") % {"seconds": SOFT_TIME_LIMIT})
        result = record_failure(
            indicator,
            error,
            trigger=trigger,
            attempt=retries + 1,
            will_retry=False,
            started_at=timezone.now(),
            duration_ms=SOFT_TIME_LIMIT * 1000,
        )
    if result is None:
        return None
    if result.will_retry:
        raise self.retry(countdown=retry_delay(retries))
    return result.outcome


def queue_refreshes(indicator_ids: Iterable[int], *, trigger: str) -> int:
    """Queue the refresh of these indicators once the current transaction commits; returns how many.

    Raises QueueUnavailable when the broker cannot be reached (outside a transaction, where the
    queuing happens at once); the indicators are then not marked as queued."""
    ids = list(indicator_ids)

    def publish() -> None:
        for start in range(0, len(ids), _QUEUE_CHUNK):
            chunk = ids[start : start + _QUEUE_CHUNK]
            # Marked before queuing, so that the next scheduled run does not queue them again meanwhile
            # (and so that a refresh run at once, in-process, ends after the mark and clears it).
            Indicator.objects.filter(pk__in=chunk).update(refresh_queued_at=timezone.now())
            for position, indicator_id in enumerate(chunk):
                try:
                    refresh.delay(indicator_id, trigger)
                except OperationalError as error:
                    Indicator.objects.filter(pk__in=chunk[position:]).update(refresh_queued_at=None)
                    raise QueueUnavailable(
                        _("The task queue (Redis) cannot be reached, so the refresh was not queued: %(error)s")
                        % {"error": error}
                    ) from error

    transaction.on_commit(publish)
    return len(ids)


@shared_task(acks_late=True, soft_time_limit=SOFT_TIME_LIMIT * 5, time_limit=TIME_LIMIT * 5)
def queue_due_refreshes() -> int:
    """Run by Celery beat every few minutes: queue the refresh of every indicator that is due."""
    due = Indicator.objects.due(timezone.now()).order_by("last_refresh_at", "pk").values_list("pk", flat=True)
    return queue_refreshes(due, trigger=IndicatorRefreshTrigger.SCHEDULE)


@shared_task(acks_late=True)
def prune_refreshes() -> int:
    """Run by beat once a day: remove the readings logged past their retention (indicators.refresh)."""
    return prune_refresh_log(now=timezone.now())
