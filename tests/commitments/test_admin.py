import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import reverse
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import Membership
from commitments.models import ActionPlan, Administration, Axis, Carrier, Commitment, Milestone
from forums.models import Forum
from indicators.models import Indicator, IndicatorValue
from tests.factories import (
    AxisFactory,
    CarrierFactory,
    CommitmentFactory,
    IndicatorValueFactory,
    MembershipFactory,
    MilestoneFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _superuser_request() -> object:
    request = RequestFactory().get("/admin/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    return request


def _admin_url(model: type, view: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_model_is_registered_with_its_history() -> None:
    registered = admin.site._registry
    for model in [
        ActionPlan,
        Axis,
        Administration,
        Commitment,
        Carrier,
        Milestone,
        Indicator,
        IndicatorValue,
        Forum,
        Membership,
    ]:
        assert isinstance(registered[model], SimpleHistoryAdmin), model


def test_every_admin_page_answers(superuser_client: Client, reference_data: None) -> None:
    CarrierFactory(commitment=Commitment.objects.first())
    MilestoneFactory()
    value = IndicatorValueFactory()
    MembershipFactory()
    for model, model_admin in admin.site._registry.items():
        obj = model.objects.first()
        urls = [_admin_url(model, "changelist")]
        # Logs written by the application alone (indicator refreshes) have no add form and no history.
        writable = model_admin.has_add_permission(_superuser_request())
        if writable:
            urls.append(_admin_url(model, "add"))
        if obj is not None:
            urls.append(_admin_url(model, "change", obj.pk))
            if isinstance(model_admin, SimpleHistoryAdmin):
                urls.append(_admin_url(model, "history", obj.pk))
        for url in urls:
            assert superuser_client.get(url).status_code == 200, url
        search = model_admin.search_fields
        if search:
            assert superuser_client.get(_admin_url(model, "changelist"), {"q": "transparence"}).status_code == 200
    assert superuser_client.get(_admin_url(Indicator, "change", value.indicator.pk)).status_code == 200


def test_the_commitment_list_costs_the_same_queries_for_more_rows(
    superuser_client: Client, django_assert_max_num_queries
) -> None:
    url = _admin_url(Commitment, "changelist")
    CommitmentFactory()
    superuser_client.get(url)
    for _ in range(10):
        CarrierFactory()

    with django_assert_max_num_queries(12):
        superuser_client.get(url)


def test_a_constraint_violation_in_the_admin_is_a_sentence(superuser_client: Client) -> None:
    axis = AxisFactory(number=1)
    form = {"plan": axis.plan.pk, "number": 1, "title": "Doublon", "title_is_official": "on", "sources": "[]"}

    response = superuser_client.post(_admin_url(Axis, "add"), form)

    assert response.status_code == 200
    assert "Ce plan comporte déjà un axe portant ce numéro." in response.content.decode()
    assert Axis.objects.count() == 1


def test_editing_milestones_inline_refreshes_the_commitment_progress(superuser_client: Client) -> None:
    milestone = MilestoneFactory()
    commitment = milestone.commitment
    url = _admin_url(Commitment, "change", commitment.pk)
    form = {
        "plan": commitment.plan.pk,
        "number": commitment.number,
        "slug": commitment.slug,
        "title": commitment.title,
        "title_is_official": "on",
        "other_ogp_ids": "[]",
        "ogp_values": "[]",
        "sources": "[]",
        "completion": "unknown",
        "is_verified": "on",
        "carriers-TOTAL_FORMS": 0,
        "carriers-INITIAL_FORMS": 0,
        "milestones-TOTAL_FORMS": 1,
        "milestones-INITIAL_FORMS": 1,
        "milestones-0-id": milestone.pk,
        "milestones-0-commitment": commitment.pk,
        "milestones-0-position": 0,
        "milestones-0-title": milestone.title,
        "milestones-0-due_date": "2019-12-31",
        "milestones-0-completed_on": "2019-11-30",
        "milestones-0-weight": 1,
    }

    response = superuser_client.post(url, form)

    assert response.status_code == 302, response.content.decode()[:2000]
    commitment.refresh_from_db()
    assert commitment.progress == 100
    change = milestone.history.first()
    assert change.completed_on.isoformat() == "2019-11-30"
    assert change.history_user.is_superuser
