import datetime
from collections.abc import Callable

import pytest
from django.contrib import admin
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import Membership, User
from commitments.models import ActionPlan, Administration, Axis, Carrier, Commitment, Milestone
from forums.models import Answer, Contribution, Forum
from indicators.models import Indicator, IndicatorRefresh, IndicatorValue
from tests.factories import (
    ActionPlanFactory,
    AdministrationFactory,
    AnswerFactory,
    AxisFactory,
    CarrierFactory,
    CommitmentFactory,
    ContributionFactory,
    ForumFactory,
    IndicatorFactory,
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


def _refresh() -> IndicatorRefresh:
    return IndicatorRefresh.objects.create(
        indicator=IndicatorFactory(), started_at=timezone.now(), duration_ms=5, outcome="unchanged", trigger="admin"
    )


def _contributions() -> None:
    # One awaiting its answer, one answered: the list says which.
    ContributionFactory()
    AnswerFactory()


# How to add rows to the list of each model the project's own apps register in the workspace.
ROWS: dict[type, Callable[[], object]] = {
    User: UserFactory,
    Membership: MembershipFactory,
    ActionPlan: ActionPlanFactory,
    Axis: AxisFactory,
    Administration: lambda: CarrierFactory(administration=AdministrationFactory()),
    Commitment: lambda: CarrierFactory(commitment=CommitmentFactory()),
    Carrier: CarrierFactory,
    Milestone: MilestoneFactory,
    Indicator: IndicatorFactory,
    IndicatorRefresh: _refresh,
    IndicatorValue: lambda: IndicatorValueFactory(date=datetime.date(2019 + IndicatorValue.objects.count() % 4, 1, 1)),
    Forum: ForumFactory,
    Contribution: _contributions,
    Answer: AnswerFactory,
}
OWN_APPS = {"accounts", "commitments", "indicators", "forums"}


def test_every_list_of_the_projects_own_models_is_counted_below() -> None:
    assert {model for model in admin.site._registry if model._meta.app_label in OWN_APPS} == set(ROWS)


@pytest.mark.parametrize("model", list(ROWS), ids=lambda model: model._meta.label)
def test_a_workspace_list_costs_the_same_queries_for_more_rows(superuser_client: Client, model: type) -> None:
    """A query per row would grow with an instance holding every OGP member's data (issue 9): the questions'
    list asked for each one's answer, a hundred queries a page."""
    url = _admin_url(model, "changelist")
    ROWS[model]()
    superuser_client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert superuser_client.get(url).status_code == 200
    for _ in range(5):
        ROWS[model]()

    with CaptureQueriesContext(connection) as more:
        response = superuser_client.get(url)

    assert response.context["cl"].result_count >= 6
    assert len(more) == len(few), [query["sql"] for query in more.captured_queries]


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
