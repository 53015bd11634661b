"""How well the administrations answer: public figures per administration and per plan.

The rules, published on the questions page: a question counts once it is published (what waits for
moderation or was rejected is not the administration's to answer); it is answered when an answer is
published; the time to answer runs from publication, when the administrations are told, to the
answer. A question on a commitment counts for every administration that carries it, lead or support.
"""

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from commitments.models import Carrier
from forums.models import Contribution

SECONDS_PER_DAY = 86400


@dataclass
class Figures:
    received: int = 0
    answered: int = 0
    # Days from publication to answer, one per answered question.
    delays: list[float] = field(default_factory=list, repr=False)

    @property
    def share_percent(self) -> int | None:
        return round(100 * self.answered / self.received) if self.received else None

    @property
    def median_days(self) -> Decimal | None:
        """In days, to a tenth: a Decimal, which the pages write without a trailing ",0"."""
        if not self.delays:
            return None
        return Decimal(str(statistics.median(self.delays))).quantize(Decimal("0.1"))

    def count(self, delay_days: float | None) -> None:
        self.received += 1
        if delay_days is not None:
            self.answered += 1
            self.delays.append(delay_days)


def _questions(commitment_filter: dict) -> list[tuple[int, int, float | None]]:
    """(commitment, plan, days to answer or None) of each published question on a commitment."""
    rows = (
        Contribution.objects.published()
        .questions()
        .filter(commitment__isnull=False, **commitment_filter)
        .values_list("commitment_id", "commitment__plan_id", "published_at", "answer__answered_at")
    )
    return [
        (commitment_id, plan_id, (answered - published).total_seconds() / SECONDS_PER_DAY if answered else None)
        for commitment_id, plan_id, published, answered in rows
    ]


def by_administration(administration_ids: list[int] | None = None) -> dict[int, Figures]:
    """Figures of each administration that has received a question (or of the ones named)."""
    carriers = Carrier.objects.all()
    if administration_ids is not None:
        carriers = carriers.filter(administration_id__in=administration_ids)
    carrying: dict[int, list[int]] = defaultdict(list)
    for commitment_id, administration_id in carriers.values_list("commitment_id", "administration_id"):
        carrying[commitment_id].append(administration_id)
    lookup = {} if administration_ids is None else {"commitment__in": carriers.values("commitment_id")}
    figures: dict[int, Figures] = defaultdict(Figures)
    for commitment_id, _plan_id, delay in _questions(lookup):
        for administration_id in carrying[commitment_id]:
            figures[administration_id].count(delay)
    return dict(figures)


def by_plan(plan_ids: list[int] | None = None) -> dict[int, Figures]:
    figures: dict[int, Figures] = defaultdict(Figures)
    lookup = {} if plan_ids is None else {"commitment__plan_id__in": plan_ids}
    for _commitment_id, plan_id, delay in _questions(lookup):
        figures[plan_id].count(delay)
    return dict(figures)
