import copy
import datetime
import json
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from commitments import services
from commitments.models import ActionPlan, Administration, Axis, Carrier, Commitment, CommitmentCompletion
from commitments.reference_data import DATA_FILE, ReferenceDataError, load_reference_data
from forums.models import Forum
from indicators import services as indicator_services
from indicators.models import IndicatorValue
from tests.factories import CommitmentFactory, IndicatorFactory, UserFactory

pytestmark = pytest.mark.django_db

MODELS = [ActionPlan, Axis, Administration, Commitment, Carrier, Forum]


def _snapshot() -> dict:
    """Every row and every history row of the loaded models."""
    return {
        model.__name__: (
            sorted(model.objects.values_list("pk", flat=True)),
            model.history.count(),
        )
        for model in MODELS
    }


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "reference.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def data() -> dict:
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


def test_both_french_plans_load_with_their_axes_and_commitments(reference_data: None) -> None:
    counts = {plan.slug: (plan.axes.count(), plan.commitments.count()) for plan in ActionPlan.objects.all()}

    assert counts == {"2015-2017": (5, 26), "2018-2020": (5, 21)}
    assert ActionPlan.objects.get(slug="2018-2020").predecessor.slug == "2015-2017"


def test_2018_2020_commitments_are_fr0030_to_fr0050(reference_data: None) -> None:
    identifiers = dict(Commitment.objects.in_plan("2018-2020").values_list("number", "ogp_id"))

    assert identifiers == {number: f"FR{29 + number:04d}" for number in range(1, 22)}


def test_every_commitment_has_a_title_sources_and_a_known_axis(reference_data: None) -> None:
    for commitment in Commitment.objects.all():
        assert commitment.title and commitment.sources, commitment
        assert commitment.axis is not None and commitment.axis.plan_id == commitment.plan_id, commitment
        assert commitment.title_is_official or commitment.title_en, f"{commitment}: a translation keeps its English"


def test_carriers_keep_lead_and_support(reference_data: None) -> None:
    procurement = Commitment.objects.get(ogp_id="FR0031")
    roles = {carrier.administration.slug: carrier.role for carrier in procurement.carriers.all()}

    assert roles["ministere-economie-finances"] == "lead"
    assert roles["ville-de-rennes"] == "support"
    assert Commitment.objects.get(ogp_id="FR0049").administrations.get().short_name == "HATVP"
    # Every commitment but 2015-2017 #10, whose carriers no source gives, has a lead.
    without_lead = Commitment.objects.exclude(carriers__role="lead")
    assert [(c.plan.slug, c.number) for c in without_lead] == [("2015-2017", 10)]


def test_nothing_unknown_is_invented(reference_data: None) -> None:
    assert not Commitment.objects.exclude(completion=CommitmentCompletion.UNKNOWN).exists()
    assert not Commitment.objects.filter(progress__isnull=False).exists()
    unverified = Commitment.objects.filter(is_verified=False)
    assert unverified.exists() and not unverified.filter(source_note="").exists()


def test_the_forums_of_2018_are_there_with_their_commitments(reference_data: None) -> None:
    numbered = Forum.objects.filter(number__isnull=False, date__year=2018)

    assert sorted(numbered.values_list("number", flat=True)) == [1, 2, 3, 4, 5]
    assert Forum.objects.get(number=2).commitments.get().ogp_id == "FR0049"


def test_a_second_run_changes_nothing(reference_data: None) -> None:
    before = _snapshot()

    report = load_reference_data()

    assert _snapshot() == before
    assert not report.changed and not report.kept


def test_a_second_run_leaves_what_administrations_recorded_alone(reference_data: None) -> None:
    coordinator = UserFactory()
    commitment = Commitment.objects.get(ogp_id="FR0033")
    services.set_completion(
        commitment=commitment,
        completion=CommitmentCompletion.SUBSTANTIAL,
        progress_note="Publié.",
        by=coordinator,
        reason="Bilan",
    )
    commitment.title = "Titre corrigé par la coordination"
    services.save_with_history(commitment, by=coordinator, reason="Coquille")
    indicator = IndicatorFactory(commitment=commitment)
    indicator_services.record_value(indicator=indicator, date=datetime.date(2020, 1, 1), value=Decimal(3), by=None)
    Carrier.objects.filter(commitment=commitment, role="support").delete()

    report = load_reference_data()

    commitment.refresh_from_db()
    assert commitment.completion == CommitmentCompletion.SUBSTANTIAL
    assert commitment.progress_note == "Publié."
    assert commitment.title == "Titre corrigé par la coordination"
    assert IndicatorValue.objects.get(indicator=indicator).value == Decimal(3)
    assert any("Titre corrigé" in message or "title" in message for message in report.kept)


def test_a_corrected_file_updates_what_only_the_loader_wrote(reference_data: None, data: dict, tmp_path: Path) -> None:
    data["plans"][1]["commitments"][0]["title_en"] = "A corrected English title"

    load_reference_data(path=_write(tmp_path, data))

    commitment = Commitment.objects.get(ogp_id="FR0030")
    assert commitment.title_en == "A corrected English title"
    assert commitment.history.first().history_change_reason == "Chargement des données de référence"


def test_a_carrier_removed_since_stays_removed(reference_data: None) -> None:
    carrier = Carrier.objects.filter(commitment__ogp_id="FR0031", role="support").first()
    carrier.delete()

    report = load_reference_data()

    assert not Carrier.objects.filter(pk=carrier.pk).exists()
    assert any("n'est pas rétablie" in message for message in report.kept)


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (
            lambda d: d["plans"][1]["commitments"][3].pop("title"),
            "plans[1] (slug=2018-2020).commitments[3] (number=4).title",
        ),
        (lambda d: d["plans"][0]["commitments"][0].update(axis=9), "L'engagement 1 renvoie à l'axe 9"),
        (
            lambda d: d["administrations"][0].update(kind="ministère"),
            "administrations[0] (slug=ministere-de-l-interieur).kind",
        ),
        (lambda d: d["forums"][0].update(date="12/03/2018"), "forums[0] (number=1).date"),
        (lambda d: d["plans"][1]["commitments"][0].update(ogp_id="FR0031"), "FR0031"),
        (
            lambda d: d["plans"][1]["commitments"][0]["carriers"].append({"administration": "nobody", "role": "lead"}),
            "nobody",
        ),
        (lambda d: d["plans"][1]["commitments"][0].update(titel="x"), "commitments[0] (number=1).titel"),
        (lambda d: d["plans"][1]["commitments"][5].update(source_note=""), "commitments[5] (number=6).source_note"),
        (lambda d: d["plans"].reverse(), "predecessor"),
    ],
)
def test_a_malformed_file_is_refused_naming_the_item_and_field(
    reference_data: None, data: dict, tmp_path: Path, damage, expected: str
) -> None:
    data = copy.deepcopy(data)
    damage(data)
    before = _snapshot()

    with pytest.raises(ReferenceDataError) as refused:
        load_reference_data(path=_write(tmp_path, data))

    assert any(expected in message for message in refused.value.messages), refused.value.messages
    assert _snapshot() == before


def test_a_refusal_by_the_database_rolls_the_whole_load_back(data: dict, tmp_path: Path) -> None:
    CommitmentFactory(ogp_id="FR0040")  # someone else's commitment already holds this identifier

    with pytest.raises(ReferenceDataError) as refused:
        load_reference_data()

    assert any("Un autre engagement porte déjà cet identifiant OGP." in m for m in refused.value.messages)
    assert ActionPlan.objects.count() == 1 and not Administration.objects.exists()


def test_the_command_reports_counts_and_refuses_bad_files_with_a_message(tmp_path: Path) -> None:
    out = StringIO()
    call_command("load_reference_data", stdout=out)
    assert "47" in out.getvalue()

    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError) as refused:
        call_command("load_reference_data", file=broken)
    assert "broken.json" in str(refused.value)
