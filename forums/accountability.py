"""How well the administrations answer: public figures per administration and per plan.

The rules, published on the questions page: a question counts once it is published (what waits for
moderation or was rejected is not the administration's to answer); it is answered when an answer is
published; the time to answer runs from publication, when the administrations are told, to the
answer. A question on a commitment counts for every administration that carries it, lead or support.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from forums.models import Contribution

SECONDS_PER_DAY = 86400


@dataclass
class Figures:
    received: int = 0
    answered: int = 0
    median_delay: datetime.timedelta | None = None

    @property
    def share_percent(self) -> int | None:
        return round(100 * self.answered / self.received) if self.received else None

    @property
    def median_days(self) -> Decimal | None:
        """In days, to a tenth: a Decimal, which the pages write without a trailing ",0"."""
        if self.median_delay is None:
            return None
        days = self.median_delay.total_seconds() / SECONDS_PER_DAY
        return Decimal(str(days)).quantize(Decimal("0.1"))


def _figures(questions: QuerySet, key: str) -> dict[int, Figures]:
    """Figures of each value of `key` among these questions, in one query whatever their number.

    The database ranks each group's answers by delay and returns only the middle one or two (the median is
    their mean), or the first row of a group without any answer: at most two rows per group."""
    group = [F(key)]
    ranked = (
        questions.annotate(
            delay=ExpressionWrapper(F("answer__answered_at") - F("published_at"), output_field=DurationField()),
            received=Window(Count("pk"), partition_by=group),
            answered=Window(Count("answer"), partition_by=group),
            position=Window(RowNumber(), partition_by=group, order_by=F("delay").asc(nulls_last=True)),
        )
        .filter(Q(position=(F("answered") + 1) / 2) | Q(position=(F("answered") + 2) / 2))
        .order_by()
        .values_list(key, "received", "answered", "delay")
    )
    figures: dict[int, Figures] = {}
    middles: dict[int, list[datetime.timedelta]] = {}
    for group_id, received, answered, delay in ranked:
        figures[group_id] = Figures(received=received, answered=answered)
        if delay is not None:
            middles.setdefault(group_id, []).append(delay)
    for group_id, delays in middles.items():
        figures[group_id].median_delay = sum(delays, datetime.timedelta()) / len(delays)
    return figures


def by_administration(administration_ids: Iterable[int]) -> dict[int, Figures]:
    """Figures of each administration named that has received a question."""
    questions = Contribution.objects.published().questions()
    questions = questions.filter(commitment__carriers__administration_id__in=list(administration_ids))
    return _figures(questions, "commitment__carriers__administration_id")


def by_plan(plan_ids: Iterable[int]) -> dict[int, Figures]:
    """Figures of each plan named that has received a question."""
    questions = Contribution.objects.published().questions().filter(commitment__plan_id__in=list(plan_ids))
    return _figures(questions, "commitment__plan_id")
