import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from commitments.models import Carrier, Commitment, CommitmentCompletion, Milestone
from tests.factories import (
    ActionPlanFactory,
    AdministrationFactory,
    AxisFactory,
    CarrierFactory,
    CommitmentFactory,
    MilestoneFactory,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2020, 6, 1)


def _refused_by_database(update: callable) -> bool:
    try:
        with transaction.atomic():
            update()
    except IntegrityError:
        return True
    return False


def test_a_commitment_number_is_unique_within_its_plan_only() -> None:
    commitment = CommitmentFactory(number=3)
    CommitmentFactory(number=3)  # another plan

    with pytest.raises(IntegrityError), transaction.atomic():
        CommitmentFactory(plan=commitment.plan, number=3)


def test_completion_is_one_of_the_ogp_levels() -> None:
    commitment = CommitmentFactory()

    assert _refused_by_database(lambda: Commitment.objects.filter(pk=commitment.pk).update(completion="almost"))
    Commitment.objects.filter(pk=commitment.pk).update(completion=CommitmentCompletion.SUBSTANTIAL)


def test_progress_stays_within_0_and_100_and_names_its_rule() -> None:
    commitment = CommitmentFactory()
    rows = Commitment.objects.filter(pk=commitment.pk)

    assert _refused_by_database(lambda: rows.update(progress=101, progress_rule="milestones"))
    assert _refused_by_database(lambda: rows.update(progress=50, progress_rule="none"))
    assert _refused_by_database(lambda: rows.update(progress=None, progress_rule="milestones"))
    rows.update(progress=100, progress_rule="milestones")


def test_an_ogp_identifier_is_unique_but_may_be_unknown_for_many() -> None:
    CommitmentFactory(ogp_id="FR0030")
    CommitmentFactory(ogp_id="")
    CommitmentFactory(ogp_id="")

    with pytest.raises(IntegrityError), transaction.atomic():
        CommitmentFactory(ogp_id="FR0030")


def test_an_administration_carries_a_commitment_once_as_lead_or_support() -> None:
    carrier = CarrierFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        CarrierFactory(commitment=carrier.commitment, administration=carrier.administration, role="support")
    assert _refused_by_database(lambda: Carrier.objects.filter(pk=carrier.pk).update(role="sponsor"))


def test_axis_numbers_are_unique_within_a_plan() -> None:
    axis = AxisFactory(number=1)

    with pytest.raises(IntegrityError), transaction.atomic():
        AxisFactory(plan=axis.plan, number=1)


def test_a_milestone_weighs_at_least_one() -> None:
    milestone = MilestoneFactory()

    assert _refused_by_database(lambda: Milestone.objects.filter(pk=milestone.pk).update(weight=0))


def test_validation_explains_a_violated_constraint_in_a_sentence() -> None:
    commitment = CommitmentFactory(number=4)
    duplicate = Commitment(plan=commitment.plan, number=4, title="Doublon", slug="doublon")

    with pytest.raises(ValidationError) as refused:
        duplicate.full_clean()

    assert "Ce plan comporte déjà un engagement portant ce numéro." in str(refused.value)


def test_an_axis_from_another_plan_is_refused() -> None:
    commitment = CommitmentFactory()
    commitment.axis = AxisFactory()  # its own plan

    with pytest.raises(ValidationError) as refused:
        commitment.full_clean()

    assert "axis" in refused.value.message_dict


def test_late_milestones_are_past_due_and_not_done() -> None:
    late = MilestoneFactory(due_date=TODAY - datetime.timedelta(days=1))
    MilestoneFactory(due_date=TODAY - datetime.timedelta(days=1), completed_on=TODAY - datetime.timedelta(days=3))
    MilestoneFactory(due_date=TODAY)
    MilestoneFactory(due_date=None)

    assert list(Milestone.objects.late(TODAY)) == [late]
    assert late.is_late(TODAY)


def test_a_commitment_is_late_when_one_of_its_milestones_is() -> None:
    late = MilestoneFactory(due_date=TODAY - datetime.timedelta(days=1)).commitment
    MilestoneFactory(commitment=late, due_date=TODAY + datetime.timedelta(days=30))
    on_time = MilestoneFactory(due_date=TODAY + datetime.timedelta(days=1)).commitment
    CommitmentFactory()  # no milestone

    assert list(Commitment.objects.late(TODAY)) == [late]
    assert on_time not in Commitment.objects.late(TODAY)


def test_the_lateness_of_each_commitment_is_that_of_late() -> None:
    day = datetime.timedelta(days=1)
    twice_late = MilestoneFactory(due_date=TODAY - day).commitment
    MilestoneFactory(commitment=twice_late, due_date=TODAY - 30 * day)
    done_late = MilestoneFactory(due_date=TODAY - day, completed_on=TODAY - 2 * day).commitment
    due_today = MilestoneFactory(due_date=TODAY).commitment
    CommitmentFactory()  # no milestone

    lateness = {commitment.pk: commitment.is_late for commitment in Commitment.objects.with_lateness(TODAY)}

    assert lateness == {
        commitment.pk: commitment in Commitment.objects.late(TODAY) for commitment in Commitment.objects.all()
    }
    assert lateness[twice_late.pk] is True
    assert lateness[done_late.pk] is False and lateness[due_today.pk] is False
    # A filter on the annotation still works, if slowly (the API's filter selects by late()).
    assert list(Commitment.objects.with_lateness(TODAY).filter(is_late=True)) == [twice_late]


def test_carried_by_filters_on_the_administration_and_its_role() -> None:
    administration = AdministrationFactory()
    led = CarrierFactory(administration=administration, role="lead").commitment
    supported = CarrierFactory(administration=administration, role="support").commitment
    CarrierFactory()

    assert set(Commitment.objects.carried_by(administration)) == {led, supported}
    assert list(Commitment.objects.carried_by(administration, role="support")) == [supported]


def test_a_list_of_commitments_costs_the_same_queries_whatever_its_length(django_assert_num_queries) -> None:
    plan = ActionPlanFactory()
    for _ in range(5):
        CarrierFactory(commitment=CommitmentFactory(plan=plan, axis=AxisFactory(plan=plan)))

    with django_assert_num_queries(2):
        rows = [
            (c.plan.slug, c.axis.number, [carrier.administration.name for carrier in c.carriers.all()])
            for c in Commitment.objects.in_plan(plan).with_related()
        ]
    assert len(rows) == 5
