"""The figures of how the administrations answer, by the published rule, computed by the database in one query."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from forums import accountability
from forums.models import Contribution, ContributionKind, ContributionState
from tests.factories import (
    ActionPlanFactory,
    AdministrationFactory,
    AnswerFactory,
    CarrierFactory,
    CommitmentFactory,
    ContributionFactory,
    ForumFactory,
)

pytestmark = pytest.mark.django_db

PUBLISHED = timezone.make_aware(datetime.datetime(2024, 3, 1, 9))


def _question(commitment: object, answered_after_days: float | None = None) -> Contribution:
    question = ContributionFactory(commitment=commitment, published_at=PUBLISHED)
    if answered_after_days is not None:
        AnswerFactory(contribution=question, answered_at=PUBLISHED + datetime.timedelta(days=answered_after_days))
    return question


def _row(figures: accountability.Figures) -> tuple:
    return figures.received, figures.answered, figures.share_percent, figures.median_days


def test_the_median_of_an_even_number_of_answers_is_the_mean_of_the_middle_two() -> None:
    commitment = CommitmentFactory()
    for days in (30, 1, 5, 2):
        _question(commitment, answered_after_days=days)
    _question(commitment)  # awaiting: received, not in the median

    figures = accountability.by_plan([commitment.plan_id])[commitment.plan_id]

    assert _row(figures) == (5, 4, 80, Decimal("3.5"))


def test_the_median_of_an_odd_number_of_answers_is_the_middle_one_to_a_tenth_of_a_day() -> None:
    commitment = CommitmentFactory()
    for days in (2, 0.25, 1.54):
        _question(commitment, answered_after_days=days)

    figures = accountability.by_plan([commitment.plan_id])[commitment.plan_id]

    assert _row(figures) == (3, 3, 100, Decimal("1.5"))


def test_without_any_answer_there_is_no_median() -> None:
    administration = CarrierFactory().administration
    commitment = administration.carriers.get().commitment
    _question(commitment)
    _question(commitment)

    figures = accountability.by_administration([administration.pk])[administration.pk]

    assert _row(figures) == (2, 0, 0, None)


def test_each_administration_counts_the_questions_on_what_it_carries_lead_or_support() -> None:
    first, second = CommitmentFactory(), CommitmentFactory()
    both = AdministrationFactory()
    alone = CarrierFactory(commitment=first).administration
    CarrierFactory(commitment=first, administration=both, role="support")
    CarrierFactory(commitment=second, administration=both)
    for days in (1, 3):
        _question(first, answered_after_days=days)
    _question(second, answered_after_days=10)

    figures = accountability.by_administration([alone.pk, both.pk])

    assert _row(figures[alone.pk]) == (2, 2, 100, Decimal("2.0"))
    assert _row(figures[both.pk]) == (3, 3, 100, Decimal("3.0"))


def test_only_published_questions_on_commitments_count_and_only_for_what_is_asked() -> None:
    commitment = CommitmentFactory()
    administration = CarrierFactory(commitment=commitment).administration
    CarrierFactory()  # another administration, with a question of its own
    ContributionFactory(commitment=CarrierFactory().commitment)
    _question(commitment, answered_after_days=2)
    ContributionFactory(commitment=commitment, state=ContributionState.PENDING)
    ContributionFactory(commitment=commitment, state=ContributionState.REJECTED)
    ContributionFactory(commitment=commitment, kind=ContributionKind.IDEA)
    ContributionFactory(commitment=None, forum=ForumFactory())

    by_administration = accountability.by_administration([administration.pk])
    by_plan = accountability.by_plan([commitment.plan_id, ActionPlanFactory().pk])

    assert list(by_administration) == [administration.pk]
    assert _row(by_administration[administration.pk]) == (1, 1, 100, Decimal("2.0"))
    assert list(by_plan) == [commitment.plan_id]  # a plan without questions has no figures


@pytest.mark.parametrize("groups", [1, 8])
def test_the_figures_of_many_administrations_or_plans_take_one_query(groups: int) -> None:
    carriers = [CarrierFactory() for _ in range(groups)]
    for carrier in carriers:
        for days in (1, 2, None):
            _question(carrier.commitment, answered_after_days=days)

    with CaptureQueriesContext(connection) as queries:
        by_administration = accountability.by_administration([c.administration_id for c in carriers])
        by_plan = accountability.by_plan([c.commitment.plan_id for c in carriers])

    assert len(queries) == 2
    assert {_row(f) for f in [*by_administration.values(), *by_plan.values()]} == {(3, 2, 67, Decimal("1.5"))}
