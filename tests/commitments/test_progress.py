"""The rules of DESIGN.md: users check these by hand, so each one is pinned here."""

import datetime
from decimal import Decimal

import pytest

from commitments import services
from commitments.models import ActionPlan, Axis, CommitmentCompletion, CommitmentProgressRule
from commitments.progress import (
    average_progress,
    commitment_progress,
    indicator_progress,
    milestones_progress,
    whole_percent,
)
from tests.factories import (
    ActionPlanFactory,
    AxisFactory,
    CommitmentFactory,
    IndicatorFactory,
    IndicatorValueFactory,
    MilestoneFactory,
)


def test_milestones_count_by_their_weight() -> None:
    assert milestones_progress([(3, True), (1, False)]) == 75
    assert milestones_progress([(1, True), (1, False), (1, False)]) == 33
    assert milestones_progress([(1, True), (2, False)]) == 33
    assert milestones_progress([(1, True), (1, True)]) == 100


def test_no_milestone_means_no_milestone_progress() -> None:
    assert milestones_progress([]) is None


def test_halves_round_up() -> None:
    assert milestones_progress([(1, True), (7, False)]) == 13  # 12.5 %


@pytest.mark.parametrize(
    ("baseline", "target", "latest", "expected"),
    [
        (0, 100, 25, Decimal("0.25")),
        (40, 20, 30, Decimal("0.5")),  # a decreasing indicator halfway down
        (0, 100, 150, Decimal(1)),  # beyond the target counts as reached
        (0, 100, -10, Decimal(0)),  # below the baseline counts as not started
        (None, 100, 10, None),
        (0, None, 10, None),
        (0, 100, None, None),
    ],
)
def test_indicator_progress_runs_from_baseline_to_target(baseline, target, latest, expected) -> None:
    as_decimal = lambda value: None if value is None else Decimal(value)  # noqa: E731

    share = indicator_progress(baseline=as_decimal(baseline), target=as_decimal(target), latest=as_decimal(latest))

    assert share == expected


def test_milestones_come_before_indicators() -> None:
    progress = commitment_progress(milestones=[(1, True), (1, False)], indicator_shares=[Decimal(1)])

    assert (progress.percent, progress.rule) == (50, CommitmentProgressRule.MILESTONES)


def test_without_milestones_the_indicators_average_and_unknown_ones_are_left_out() -> None:
    progress = commitment_progress(milestones=[], indicator_shares=[Decimal("0.2"), None, Decimal("0.6")])

    assert (progress.percent, progress.rule) == (40, CommitmentProgressRule.INDICATORS)


def test_without_any_data_progress_is_unknown_not_zero() -> None:
    progress = commitment_progress(milestones=[], indicator_shares=[None])

    assert (progress.percent, progress.rule) == (None, CommitmentProgressRule.NONE)


def test_averages_leave_out_unknown_and_withdrawn_commitments() -> None:
    assert (
        average_progress(
            [
                (80, CommitmentCompletion.SUBSTANTIAL),
                (None, CommitmentCompletion.UNKNOWN),
                (0, CommitmentCompletion.WITHDRAWN),
                (40, CommitmentCompletion.LIMITED),
            ]
        )
        == 60
    )
    assert average_progress([(None, CommitmentCompletion.UNKNOWN)]) is None


@pytest.mark.django_db
def test_the_database_average_follows_the_same_rule() -> None:
    plan = ActionPlanFactory()
    axis = AxisFactory(plan=plan)
    empty_axis = AxisFactory(plan=plan)
    rows = [
        (80, CommitmentCompletion.SUBSTANTIAL),
        (None, CommitmentCompletion.UNKNOWN),
        (5, "withdrawn"),
        (45, "limited"),
    ]
    for progress, completion in rows:
        CommitmentFactory(
            plan=plan,
            axis=axis,
            completion=completion,
            progress=progress,
            progress_rule=CommitmentProgressRule.NONE if progress is None else CommitmentProgressRule.MILESTONES,
        )

    plan_row = ActionPlan.objects.with_progress().get(pk=plan.pk)
    axis_rows = {a.pk: a for a in Axis.objects.with_progress()}

    assert whole_percent(plan_row.progress_average) == average_progress(rows) == 63  # 62.5 rounds up
    assert whole_percent(axis_rows[axis.pk].progress_average) == 63
    assert whole_percent(axis_rows[empty_axis.pk].progress_average) is None
    assert plan_row.commitment_count == 4


@pytest.mark.django_db
def test_refresh_progress_reads_milestones_then_public_indicators() -> None:
    commitment = CommitmentFactory()
    indicator = IndicatorFactory(commitment=commitment, baseline_value=10, target_value=30)
    IndicatorValueFactory(indicator=indicator, date=datetime.date(2019, 1, 1), value=Decimal(15))
    IndicatorValueFactory(indicator=indicator, date=datetime.date(2020, 1, 1), value=Decimal(25))
    hidden = IndicatorFactory(commitment=commitment, is_public=False)
    IndicatorValueFactory(indicator=hidden, value=Decimal(100))

    assert services.refresh_progress(commitment=commitment).percent == 75

    MilestoneFactory(commitment=commitment, weight=1, completed_on=datetime.date(2019, 5, 1))
    MilestoneFactory(commitment=commitment, weight=3)
    services.refresh_progress(commitment=commitment)
    commitment.refresh_from_db()

    assert (commitment.progress, commitment.progress_rule) == (25, CommitmentProgressRule.MILESTONES)
