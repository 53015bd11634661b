"""The rules that users check by hand, in one place; the site publishes them as written here.

- A commitment with milestones progresses by the weighted share of its milestones done.
- Otherwise, by the mean progress of its public indicators from baseline to target, each
  measured at its latest value and held within 0-100 %.
- Otherwise its progress is unknown ("non renseigné"): never zero, never guessed.
- Axis and plan progress are the mean of their commitments' progress, leaving out unknown
  and withdrawn commitments; with none left, it is unknown too.
- A milestone is late when its due date has passed and it is not done; a commitment is late
  when one of its milestones is.

Percentages are rounded to the nearest whole number, halves up.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Q

from commitments.models import CommitmentCompletion, CommitmentProgressRule


@dataclass(frozen=True)
class Progress:
    percent: int | None
    rule: str

    @classmethod
    def unknown(cls) -> "Progress":
        return cls(percent=None, rule=CommitmentProgressRule.NONE)


def _whole_percent(share: Decimal) -> int:
    return int((share * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def milestones_progress(milestones: Iterable[tuple[int, bool]]) -> int | None:
    """Weighted share of milestones done, from (weight, is_done) pairs; None without milestones."""
    total = done = 0
    for weight, is_done in milestones:
        total += weight
        done += weight if is_done else 0
    if total == 0:
        return None
    return _whole_percent(Decimal(done) / Decimal(total))


def indicator_progress(*, baseline: Decimal | None, target: Decimal | None, latest: Decimal | None) -> Decimal | None:
    """Share of the way from baseline to target, within 0-1; None when any of the three is missing.

    The same formula serves both directions: for a decreasing indicator the target is below
    the baseline and both differences are negative.
    """
    if baseline is None or target is None or latest is None or target == baseline:
        return None
    share = (Decimal(latest) - Decimal(baseline)) / (Decimal(target) - Decimal(baseline))
    return min(max(share, Decimal(0)), Decimal(1))


def commitment_progress(
    *, milestones: Iterable[tuple[int, bool]], indicator_shares: Iterable[Decimal | None]
) -> Progress:
    """Progress of one commitment, with the rule that produced it."""
    from_milestones = milestones_progress(milestones)
    if from_milestones is not None:
        return Progress(percent=from_milestones, rule=CommitmentProgressRule.MILESTONES)
    known = [share for share in indicator_shares if share is not None]
    if known:
        return Progress(percent=_whole_percent(sum(known) / len(known)), rule=CommitmentProgressRule.INDICATORS)
    return Progress.unknown()


def average_progress(commitments: Iterable[tuple[int | None, str]]) -> int | None:
    """Mean progress of (progress, completion) pairs, leaving out unknown and withdrawn ones."""
    known = [
        progress
        for progress, completion in commitments
        if progress is not None and completion != CommitmentCompletion.WITHDRAWN
    ]
    if not known:
        return None
    return _whole_percent(Decimal(sum(known)) / Decimal(len(known)) / 100)


def average_progress_aggregate(prefix: str = "") -> Avg:
    """The same mean as average_progress, for an annotation (SQL's AVG already skips NULLs).

    Round its result with whole_percent.
    """
    return Avg(f"{prefix}progress", filter=~Q(**{f"{prefix}completion": CommitmentCompletion.WITHDRAWN}))


def whole_percent(value: float | Decimal | None) -> int | None:
    """Round a database average to a whole percent by the same rule as the rest of this module."""
    if value is None:
        return None
    return _whole_percent(Decimal(str(value)) / 100)
