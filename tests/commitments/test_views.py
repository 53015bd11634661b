import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.factories import ActionPlanFactory, AxisFactory, CarrierFactory, CommitmentFactory

pytestmark = pytest.mark.django_db


def test_home_lists_the_plans_in_french_by_default(client: Client, reference_data: None) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert response["Content-Language"] == "fr"
    page = response.content.decode()
    assert "Plan d&#x27;action national pour la France 2018-2020" in page
    assert "non renseigné" in page


def test_english_is_available(client: Client, reference_data: None) -> None:
    response = client.get("/en/")

    assert response.status_code == 200
    assert response["Content-Language"] == "en"
    page = response.content.decode()
    assert "not reported" in page
    assert '<option value="fr" lang="fr">français</option>' in page


def test_a_plan_page_lists_its_commitments_by_axis(client: Client, reference_data: None) -> None:
    response = client.get("/plans/2018-2020/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "FR0030" in page and "FR0050" in page
    assert "Haute Autorité pour la transparence de la vie publique" in page


def test_an_unknown_plan_is_a_404(client: Client, db: None) -> None:
    assert client.get("/plans/1999-2001/").status_code == 404


def test_a_plan_page_costs_the_same_queries_for_more_commitments(client: Client, django_assert_num_queries) -> None:
    plan = ActionPlanFactory(slug="plan-test")
    axis = AxisFactory(plan=plan)
    CarrierFactory(commitment=CommitmentFactory(plan=plan, axis=axis))
    with CaptureQueriesContext(connection) as few:
        client.get("/plans/plan-test/")
    for _ in range(10):
        CarrierFactory(commitment=CommitmentFactory(plan=plan, axis=AxisFactory(plan=plan)))

    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get("/plans/plan-test/").status_code == 200


def test_the_home_page_costs_the_same_queries_for_more_plans(client: Client, db: None) -> None:
    CommitmentFactory()
    with CaptureQueriesContext(connection) as few:
        client.get("/")
    for _ in range(5):
        CarrierFactory(commitment=CommitmentFactory())

    with CaptureQueriesContext(connection) as many:
        assert client.get("/").status_code == 200
    assert len(many) == len(few)
