"""The everyday update page: each form is one service call, public at once, and only for the carriers."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from commitments.models import Commitment, CommitmentCompletion
from indicators.models import IndicatorValue
from tests.factories import CarrierFactory, IndicatorFactory, IndicatorValueFactory
from tests.workspace import World, build_world, database_state

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return build_world()


def _url(commitment: Commitment) -> str:
    return reverse("admin:commitments_commitment_update", args=[commitment.pk])


def _editor(client: Client, world: World) -> Client:
    client.force_login(world.a.editor)
    return client


def test_an_editor_records_a_value_and_the_public_page_shows_it_at_once(client: Client, world: World) -> None:
    _editor(client, world)
    indicator = world.a.indicator
    today = timezone.localdate()
    response = client.post(
        _url(world.a.commitment),
        {
            "action": f"indicator-{indicator.pk}",
            f"indicator-{indicator.pk}-date": today.isoformat(),
            f"indicator-{indicator.pk}-value": "42,5",
            f"indicator-{indicator.pk}-note": "Chiffre du rapport annuel",
        },
    )
    assert response.status_code == 302
    value = IndicatorValue.objects.get(indicator=indicator, date=today)
    assert value.value == Decimal("42.5")
    assert value.recorded_by == world.a.editor
    record = value.history.get()
    assert (record.history_user, record.history_change_reason) == (world.a.editor, "Chiffre du rapport annuel")
    assert record.history_administration == world.a.administration
    commitment = Commitment.objects.get(pk=world.a.commitment.pk)
    assert commitment.updated_by == world.a.administration
    public = Client().get(indicator.get_absolute_url())
    assert "42,5" in public.content.decode()


def test_a_correction_needs_its_reason_and_keeps_the_old_value_in_history(client: Client, world: World) -> None:
    _editor(client, world)
    value = world.a.value
    prefix = f"value-{value.pk}"
    before = database_state()
    refused = client.post(_url(world.a.commitment), {"action": prefix, f"{prefix}-value": "12", f"{prefix}-reason": ""})
    assert refused.status_code == 200
    assert refused.context["panels"][0].corrections[0][1].errors["reason"]
    assert database_state() == before
    client.post(_url(world.a.commitment), {"action": prefix, f"{prefix}-value": "12", f"{prefix}-reason": "Erreur"})
    value.refresh_from_db()
    assert value.value == Decimal(12)
    assert [r.value for r in value.history.order_by("history_date")] == [Decimal(10), Decimal(12)]
    assert value.history.latest().history_change_reason == "Erreur"


@pytest.mark.parametrize(
    ("value", "day", "field"),
    [
        ("5000", None, "value"),  # above the indicator's maximum of 1000
        ("-1", None, "value"),  # below its minimum of 0
        ("douze", None, "value"),
        ("5", datetime.date(2020, 1, 1), "date"),  # already has a value: correct it instead
        ("5", "future", "date"),
    ],
)
def test_a_refused_value_is_a_message_beside_its_field_and_nothing_is_stored(
    client: Client, world: World, value: str, day: object, field: str
) -> None:
    _editor(client, world)
    indicator = world.a.indicator
    if day == "future":
        day = timezone.localdate() + datetime.timedelta(days=3)
    day = day or timezone.localdate()
    prefix = f"indicator-{indicator.pk}"
    before = database_state()
    response = client.post(
        _url(world.a.commitment), {"action": prefix, f"{prefix}-date": day.isoformat(), f"{prefix}-value": value}
    )
    assert response.status_code == 200
    form = response.context["panels"][0].new_value
    assert form.errors[field], form.errors
    assert database_state() == before


def test_marking_a_milestone_done_moves_the_progress(client: Client, world: World) -> None:
    _editor(client, world)
    milestone = world.a.milestone
    prefix = f"milestone-{milestone.pk}"
    response = client.post(
        _url(world.a.commitment),
        {
            "action": prefix,
            f"{prefix}-completed_on": "2024-05-02",
            f"{prefix}-evidence_url": "https://www.example.gouv.fr/preuve",
            f"{prefix}-reason": "Publié",
        },
    )
    assert response.status_code == 302
    milestone.refresh_from_db()
    assert milestone.completed_on == datetime.date(2024, 5, 2)
    assert milestone.evidence_url == "https://www.example.gouv.fr/preuve"
    assert Commitment.objects.get(pk=world.a.commitment.pk).progress == Decimal(100)


def test_setting_the_completion_with_its_public_note(client: Client, world: World) -> None:
    _editor(client, world)
    client.post(
        _url(world.a.commitment),
        {
            "action": "completion",
            "completion-completion": CommitmentCompletion.SUBSTANTIAL,
            "completion-progress_note": "Deux jalons sur trois.",
            "completion-reason": "Point d'étape",
        },
    )
    commitment = Commitment.objects.get(pk=world.a.commitment.pk)
    assert (commitment.completion, commitment.progress_note) == (
        CommitmentCompletion.SUBSTANTIAL,
        "Deux jalons sur trois.",
    )
    assert commitment.history.latest().history_change_reason == "Point d'étape"
    assert "Deux jalons sur trois." in Client().get(commitment.get_absolute_url()).content.decode()


def test_another_administrations_commitment_is_not_found_and_nothing_changes(client: Client, world: World) -> None:
    _editor(client, world)
    url = _url(world.b.commitment)
    before = database_state()
    assert client.get(url).status_code == 404
    prefix = f"indicator-{world.b.indicator.pk}"
    posted = client.post(url, {"action": prefix, f"{prefix}-date": "2024-01-01", f"{prefix}-value": "1"})
    assert posted.status_code == 404
    assert database_state() == before


def test_a_form_of_another_commitment_posted_to_ones_own_page_is_not_found(client: Client, world: World) -> None:
    _editor(client, world)
    before = database_state()
    for prefix, data in [
        (f"indicator-{world.b.indicator.pk}", {"date": "2024-01-01", "value": "1"}),
        (f"value-{world.b.value.pk}", {"value": "1", "reason": "x"}),
        (f"milestone-{world.b.milestone.pk}", {"completed_on": "2024-01-01"}),
    ]:
        payload = {"action": prefix, **{f"{prefix}-{key}": item for key, item in data.items()}}
        assert client.post(_url(world.a.commitment), payload).status_code == 404
    assert database_state() == before


def test_a_commitment_carried_by_two_administrations_is_open_to_both(client: Client, world: World) -> None:
    CarrierFactory(commitment=world.b.commitment, administration=world.a.administration, role="support")
    _editor(client, world)
    assert client.get(_url(world.b.commitment)).status_code == 200


def test_a_coordinator_updates_any_commitment(client: Client, world: World) -> None:
    client.force_login(world.coordinator)
    assert client.get(_url(world.a.commitment)).status_code == 200
    assert client.get(_url(world.b.commitment)).status_code == 200


def test_the_update_page_costs_the_same_queries_for_more_indicators_and_values(
    client: Client, world: World, django_assert_num_queries
) -> None:
    _editor(client, world)
    url = _url(world.a.commitment)
    client.get(url)  # the session's first read is not the page's cost
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for number in range(5):
        indicator = IndicatorFactory(commitment=world.a.commitment)
        for day in range(1, 6):
            IndicatorValueFactory(indicator=indicator, date=datetime.date(2021, 1 + number, day))
    with django_assert_num_queries(len(few.captured_queries)):
        page = client.get(url)
    assert page.status_code == 200
    assert [len(panel.corrections) for panel in page.context["panels"]] == [1] + [3] * 5


def test_an_objects_admin_history_shows_old_and_new_who_for_whom_and_why(client: Client, world: World) -> None:
    _editor(client, world)
    client.post(
        _url(world.a.commitment),
        {
            "action": "completion",
            "completion-completion": CommitmentCompletion.LIMITED,
            "completion-progress_note": "",
            "completion-reason": "Premier bilan",
        },
    )
    client.force_login(world.coordinator)
    page = client.get(reverse("admin:commitments_commitment_history", args=[world.a.commitment.pk]))
    text = page.content.decode()
    assert "Non évalué" in text and "Limité" in text  # the labels of the old and the new completion
    assert "Premier bilan" in text
    assert world.a.editor.username in text
    assert world.a.administration.name in text


def test_a_coordinator_reads_the_history_of_a_whole_plan(client: Client, world: World) -> None:
    _editor(client, world)
    prefix = f"value-{world.a.value.pk}"
    client.post(_url(world.a.commitment), {"action": prefix, f"{prefix}-value": "12", f"{prefix}-reason": "Coquille"})
    url = reverse("admin:commitments_actionplan_timeline", args=[world.a.commitment.plan.pk])
    assert client.get(url).status_code in (403, 404)  # not for editors
    client.force_login(world.coordinator)
    response = client.get(url)
    assert response.status_code == 200
    change = next(c for c in response.context["page"].object_list if c.reason == "Coquille")
    assert (change.user, change.administration) == (world.a.editor, world.a.administration)
    assert [(f.old, f.new) for f in change.fields] == [("10", "12"), ("—", "Coquille")]  # the value, its note


def test_the_public_page_offers_the_update_to_those_who_may_and_stays_cacheable_for_others(
    client: Client, world: World
) -> None:
    url = world.a.commitment.get_absolute_url()
    update = reverse("admin:commitments_commitment_update", args=[world.a.commitment.pk])
    anonymous = Client().get(url)
    assert update not in anonymous.content.decode()
    assert "Cookie" not in anonymous.get("Vary", "") and "public" in anonymous["Cache-Control"]
    client.force_login(world.b.editor)
    assert update not in client.get(url).content.decode()
    client.force_login(world.a.editor)
    assert update in client.get(url).content.decode()


def test_the_page_names_its_parts_with_plain_numbers_and_offers_todays_date(client: Client, world: World) -> None:
    # Figures are localised in templates (12 345): an identifier must not be, or links and labels break.
    IndicatorFactory(pk=12345, commitment=world.a.commitment)
    _editor(client, world)
    page = client.get(_url(world.a.commitment)).content.decode()
    assert 'id="indicator-12345"' in page
    assert f'value="{timezone.localdate().isoformat()}"' in page  # what a date input can show
