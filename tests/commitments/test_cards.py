"""A commitment's card, progress bar and completion badge written in Python (commitments.cards): the HTML the
templates wrote, escaped."""

import datetime

import pytest
from django.utils import translation

from commitments import cards
from commitments.models import Commitment, CommitmentCompletion, CommitmentProgressRule
from tests.factories import (
    ActionPlanFactory,
    AdministrationFactory,
    AxisFactory,
    CarrierFactory,
    CommitmentFactory,
    MilestoneFactory,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 1, 15)


def _listed(commitment: Commitment) -> Commitment:
    return Commitment.objects.with_related().with_lateness(TODAY).get(pk=commitment.pk)


@pytest.fixture
def commitment() -> Commitment:
    plan = ActionPlanFactory(slug="2018-2020")
    commitment = CommitmentFactory(
        plan=plan,
        number=4,
        title="Ouvrir <les> données d'État",
        title_en="Open <the> data",
        ogp_id="FR0031",
        axis=AxisFactory(plan=plan, number=2),
        completion=CommitmentCompletion.SUBSTANTIAL,
    )
    Commitment.objects.filter(pk=commitment.pk).update(progress=40, progress_rule=CommitmentProgressRule.MILESTONES)
    CarrierFactory(commitment=commitment, administration=AdministrationFactory(name="Étalab & co", name_en="Etalab"))
    CarrierFactory(commitment=commitment, administration=AdministrationFactory(name="Insee"), role="support")
    MilestoneFactory(commitment=commitment, due_date=datetime.date(2025, 12, 31))
    return _listed(commitment)


def test_a_card_writes_the_commitment_its_progress_carriers_completion_lateness_and_axis(
    commitment: Commitment,
) -> None:
    key = commitment.pk

    assert cards.commitment_card(commitment) == (
        '<div class="fr-card fr-enlarge-link">\n'
        '  <div class="fr-card__body">\n'
        '    <div class="fr-card__content">\n'
        '      <h3 class="fr-card__title"><a href="/plans/2018-2020/engagements/4/">'
        "Engagement 4 — Ouvrir &lt;les&gt; données d&#x27;État</a></h3>\n"
        '      <div class="fr-card__desc">\n'
        "        \n"
        '<div class="og-progress">\n'
        f'  <p class="fr-mb-1v" id="progress-commitment-{key}">'
        '<span class="fr-text--bold">Avancement :</span> 40 %</p>\n'
        f'  <progress max="100" value="40" aria-labelledby="progress-commitment-{key}">40 %</progress>\n'
        "</div>\n"
        "\n"
        '        <p class="fr-text--sm fr-mt-1w fr-mb-0">Étalab &amp; co · Insee (contributrice)</p>\n'
        "      </div>\n"
        '      <div class="fr-card__start">\n'
        '        <ul class="fr-badges-group">\n'
        '          <li><p class="fr-badge fr-badge--info fr-badge--no-icon">Substantiel</p></li>\n'
        '          <li><p class="fr-badge fr-badge--error fr-badge--no-icon">En retard</p></li>\n'
        "        </ul>\n"
        '        <p class="fr-card__detail">FR0031 · Axe 2</p>\n'
        "      </div>\n"
        "    </div>\n"
        "  </div>\n"
        "</div>"
    )


def test_a_card_in_english_takes_the_english_names_where_the_data_has_them(commitment: Commitment) -> None:
    with translation.override("en"):
        card = cards.commitment_card(commitment)

    assert '<a href="/en/plans/2018-2020/engagements/4/">Commitment 4 — Open &lt;the&gt; data</a>' in card
    assert "Etalab · Insee (support)</p>" in card
    assert ">Progress:</span> 40 %</p>" in card
    assert ">Late</p>" in card and "Axis 2</p>" in card


def test_a_card_without_progress_axis_number_carrier_or_lateness_says_only_what_is_known() -> None:
    card = cards.commitment_card(_listed(CommitmentFactory()))

    assert '<span class="og-unknown">non renseigné</span>' in card
    assert "<progress" not in card
    assert "fr-text--sm fr-mt-1w" not in card and "fr-card__detail" not in card and "fr-badge--error" not in card
    assert '<li><p class="fr-badge fr-badge--new fr-badge--no-icon">Non évalué</p></li>' in card


@pytest.mark.parametrize(
    ("completion", "tone"),
    [
        (CommitmentCompletion.COMPLETE, "fr-badge fr-badge--success fr-badge--no-icon"),
        (CommitmentCompletion.SUBSTANTIAL, "fr-badge fr-badge--info fr-badge--no-icon"),
        (CommitmentCompletion.LIMITED, "fr-badge fr-badge--warning fr-badge--no-icon"),
        (CommitmentCompletion.NOT_STARTED, "fr-badge fr-badge--warning fr-badge--no-icon"),
        (CommitmentCompletion.WITHDRAWN, "fr-badge fr-badge--no-icon"),
        (CommitmentCompletion.UNKNOWN, "fr-badge fr-badge--new fr-badge--no-icon"),
    ],
)
def test_each_completion_has_its_badge(completion: str, tone: str) -> None:
    commitment = Commitment(completion=completion)

    assert cards.completion_badge(commitment) == f'<p class="{tone}">{commitment.completion_label}</p>'


def test_a_progress_bar_names_its_label_by_the_id_given() -> None:
    assert 'id="progress-plan-a&amp;b"' in cards.progress_bar(7, "progress-plan-a&b")
    assert 'aria-labelledby="progress-plan-a&amp;b">7 %</progress>' in cards.progress_bar(7, "progress-plan-a&b")
