import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import MembershipRole
from commitments import services
from commitments.models import Commitment, CommitmentCompletion, CommitmentProgressRule
from indicators import services as indicator_services
from indicators.models import IndicatorValue
from tests.factories import (
    AdministrationFactory,
    CarrierFactory,
    CommitmentFactory,
    IndicatorFactory,
    MembershipFactory,
    MilestoneFactory,
)

pytestmark = pytest.mark.django_db


def test_marking_a_milestone_done_records_who_why_and_updates_progress() -> None:
    carrier = CarrierFactory()
    member = MembershipFactory(administration=carrier.administration)
    milestone = MilestoneFactory(commitment=carrier.commitment)
    MilestoneFactory(commitment=carrier.commitment)

    services.mark_milestone_done(
        milestone=milestone,
        completed_on=datetime.date(2019, 3, 1),
        evidence_url="https://www.data.gouv.fr/fr/datasets/exemple/",
        by=member.user,
        reason="Publication du jeu de données",
    )

    latest = milestone.history.first()
    assert (latest.history_user, latest.history_change_reason) == (member.user, "Publication du jeu de données")
    assert latest.history_administration == carrier.administration
    assert latest.prev_record.completed_on is None
    commitment = Commitment.objects.get(pk=carrier.commitment.pk)
    assert (commitment.progress, commitment.progress_rule) == (50, CommitmentProgressRule.MILESTONES)
    assert commitment.updated_by == carrier.administration
    assert commitment.updated_at is not None


def test_a_milestone_cannot_be_done_in_the_future() -> None:
    milestone = MilestoneFactory()

    with pytest.raises(ValidationError) as refused:
        services.mark_milestone_done(
            milestone=milestone, completed_on=timezone.localdate() + datetime.timedelta(days=1), by=None
        )

    assert "completed_on" in refused.value.message_dict
    milestone.refresh_from_db()
    assert milestone.completed_on is None


def test_set_completion_refuses_a_level_outside_the_ogp_scale() -> None:
    commitment = CommitmentFactory()

    with pytest.raises(ValidationError):
        services.set_completion(commitment=commitment, completion="nearly", progress_note="", by=None)

    assert Commitment.objects.get(pk=commitment.pk).completion == CommitmentCompletion.UNKNOWN


def test_set_completion_keeps_the_old_level_in_history() -> None:
    commitment = CommitmentFactory()

    services.set_completion(
        commitment=commitment,
        completion=CommitmentCompletion.SUBSTANTIAL,
        progress_note="Les données sont publiées.",
        by=None,
        reason="Auto-évaluation 2020",
    )

    latest = commitment.history.first()
    assert latest.completion == CommitmentCompletion.SUBSTANTIAL
    assert latest.prev_record.completion == CommitmentCompletion.UNKNOWN
    assert latest.history_change_reason == "Auto-évaluation 2020"


def test_the_acting_administration_prefers_a_lead_carrier() -> None:
    commitment = CommitmentFactory()
    support = CarrierFactory(commitment=commitment, role="support").administration
    lead = CarrierFactory(commitment=commitment, role="lead").administration
    coordinator = MembershipFactory(administration=AdministrationFactory(), role=MembershipRole.COORDINATOR)
    member = MembershipFactory(administration=support)
    MembershipFactory(user=member.user, administration=lead)

    assert services.acting_administration(user=member.user, commitment=commitment) == lead
    assert services.acting_administration(user=coordinator.user, commitment=commitment) == coordinator.administration
    assert services.acting_administration(user=None, commitment=commitment) is None


def test_recording_a_value_updates_progress_from_the_indicator() -> None:
    indicator = IndicatorFactory(baseline_value=Decimal(0), target_value=Decimal(200))

    indicator_services.record_value(indicator=indicator, date=datetime.date(2020, 1, 1), value=Decimal(50), by=None)

    commitment = Commitment.objects.get(pk=indicator.commitment_id)
    assert (commitment.progress, commitment.progress_rule) == (25, CommitmentProgressRule.INDICATORS)


def test_a_second_value_on_the_same_date_must_be_a_correction() -> None:
    indicator = IndicatorFactory()
    indicator_services.record_value(indicator=indicator, date=datetime.date(2020, 1, 1), value=Decimal(5), by=None)

    with pytest.raises(ValidationError) as refused:
        indicator_services.record_value(indicator=indicator, date=datetime.date(2020, 1, 1), value=Decimal(6), by=None)

    assert "date" in refused.value.message_dict
    assert IndicatorValue.objects.get(indicator=indicator).value == Decimal(5)


def test_a_correction_needs_a_reason_and_history_keeps_the_old_value() -> None:
    indicator = IndicatorFactory()
    recorded = indicator_services.record_value(
        indicator=indicator, date=datetime.date(2020, 1, 1), value=Decimal(5), by=None
    )

    with pytest.raises(ValidationError):
        indicator_services.correct_value(indicator_value=recorded, value=Decimal(7), by=None, reason="  ")
    indicator_services.correct_value(indicator_value=recorded, value=Decimal(7), by=None, reason="Erreur de saisie")

    history = list(recorded.history.order_by("history_date").values_list("value", "history_change_reason"))
    assert history == [(Decimal(5), ""), (Decimal(7), "Erreur de saisie")]


def test_history_keeps_the_administration_acted_for_even_after_the_member_moves() -> None:
    carrier = CarrierFactory()
    member = MembershipFactory(administration=carrier.administration)

    services.set_completion(
        commitment=carrier.commitment, completion=CommitmentCompletion.LIMITED, progress_note="", by=member.user
    )
    member.delete()
    MembershipFactory(user=member.user)

    assert carrier.commitment.history.first().history_administration == carrier.administration


def test_changes_without_an_author_name_no_administration() -> None:
    commitment = CommitmentFactory()

    services.set_completion(commitment=commitment, completion=CommitmentCompletion.LIMITED, progress_note="", by=None)

    assert commitment.history.first().history_administration is None
