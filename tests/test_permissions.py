"""The permission matrix: every admin view and action and every write route, for every role.

Each case asserts the status code and, when the request is refused, that the database is exactly as
it was: a refused request changes nothing, whatever it carried.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import Client
from django.urls import reverse
from dsfr.models import DsfrConfig
from rest_framework.authtoken.models import Token

from accounts.models import Membership, User
from commitments.models import ActionPlan, Administration, Axis, Carrier, Commitment, Milestone
from forums.models import Answer, Contribution, ContributionState, Forum
from indicators.models import Indicator, IndicatorRefresh, IndicatorValue
from tests.factories import AnswerFactory, AxisFactory, CarrierFactory, ContributionFactory, TOTPDeviceFactory
from tests.workspace import Side, World, build_world, database_state

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "editor_a", "editor_b", "coordinator"]

# The admin's own views, for one object.
OBJECT_ROUTES = ["change_get", "change_post", "delete_get", "delete_post", "history", "version_get", "version_post"]
LIST_ROUTES = ["list", "add_get", "add_post", "delete_action"]
EVERY_ROUTE = set(OBJECT_ROUTES + LIST_ROUTES)
READ = {"list", "change_get", "history", "version_get"}

# What an editor may do with the objects of a commitment their administration carries; nothing else, anywhere.
EDITOR_OWN: dict[type[models.Model], set[str]] = {
    Commitment: READ,
    Carrier: READ,
    Milestone: READ,
    Indicator: READ,
    IndicatorValue: READ | {"change_post"},  # a value's page corrects it
    IndicatorRefresh: {"list", "change_get", "history"},
    # A contribution's page holds the answer form; its posts are in WRITE_ROUTES below.
    Contribution: READ,
    Answer: READ,
}
# What a coordinator may do. Old versions are shown, never posted back (that would bypass the services).
WRITABLE = EVERY_ROUTE - {"version_post"}
COORDINATOR: dict[type[models.Model], set[str]] = {
    ActionPlan: WRITABLE,
    Axis: WRITABLE,
    Administration: WRITABLE,
    Commitment: WRITABLE,
    Carrier: WRITABLE,
    Milestone: WRITABLE,
    Indicator: WRITABLE,
    IndicatorValue: WRITABLE - {"add_get", "add_post"},  # values come through the services' forms
    IndicatorRefresh: {"list", "change_get", "history", "delete_get", "delete_post", "delete_action"},
    Forum: WRITABLE,
    # Contributions come from citizens and are rejected, not deleted; the page's own posts are in WRITE_ROUTES.
    Contribution: READ,
    Answer: READ,
    Membership: WRITABLE,
    # Accounts are created by invitation and deactivated rather than deleted.
    User: {"list", "change_get", "change_post", "history"},
}


@pytest.fixture
def world() -> World:
    world = build_world()
    AxisFactory(plan=world.a.commitment.plan)
    # One object of each model the platform's own apps register, for superusers only.
    TOTPDeviceFactory(user=world.a.editor)
    Token.objects.create(user=world.superuser)
    Group.objects.create(name="Exploitation")
    DsfrConfig.objects.create()
    attempt = {"username": "editor-A", "ip_address": "192.0.2.1", "user_agent": "test", "path_info": "/admin/login/"}
    AccessAttempt.objects.create(**attempt, failures_since_start=1)
    AccessFailureLog.objects.create(**attempt)
    AccessLog.objects.create(**attempt)
    for side in (world.a, world.b):
        # One answered question, and one awaiting its answer, on each side's commitment.
        AnswerFactory(contribution=ContributionFactory(commitment=side.commitment), administration=side.administration)
        ContributionFactory(commitment=side.commitment)
        ContributionFactory(commitment=side.commitment, state=ContributionState.PENDING)
    return world


def _has_history(model: type[models.Model]) -> bool:
    return hasattr(model._meta, "simple_history_manager_attribute")


def _object_of(model: type[models.Model], side: Side) -> models.Model | None:
    """The object of a model that belongs to one administration's side, or any for shared ones."""
    by_model = {
        Commitment: side.commitment,
        Carrier: side.commitment.carriers.first(),
        Milestone: side.milestone,
        Indicator: side.indicator,
        IndicatorValue: side.value,
        IndicatorRefresh: side.indicator.refreshes.first(),
        ActionPlan: side.commitment.plan,
        Administration: side.administration,
        Membership: side.editor.memberships.first(),
        Contribution: side.commitment.contributions.order_by("pk").first(),
        Answer: Answer.objects.filter(contribution__commitment=side.commitment).first(),
        User: side.editor,
    }
    if model in by_model:
        return by_model[model]
    return model._default_manager.order_by("pk").first()


def _login(client: Client, world: World, role: str) -> None:
    users = {"editor_a": world.a.editor, "editor_b": world.b.editor, "coordinator": world.coordinator}
    if role in users:
        client.force_login(users[role])


def _url(model: type[models.Model], view: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _request(client: Client, model: type[models.Model], route: str, obj: models.Model | None) -> int | None:
    """Make one of the admin's requests; None when the model has no object to make it on."""
    if route in OBJECT_ROUTES and obj is None:
        return None
    if route == "list":
        return client.get(_url(model, "changelist")).status_code
    if route == "add_get":
        return client.get(_url(model, "add")).status_code
    if route == "add_post":
        return client.post(_url(model, "add"), {}).status_code
    if route == "delete_action":
        target = obj or model._default_manager.first()
        if target is None:
            return None
        data = {"action": "delete_selected", "_selected_action": [target.pk], "post": "yes"}
        return client.post(_url(model, "changelist"), data).status_code
    if route == "change_get":
        return client.get(_url(model, "change", obj.pk)).status_code
    if route == "change_post":
        # What the change form would post back unchanged, with a different value where there is one.
        return client.post(_url(model, "change", obj.pk), {"value": "11", "change_reason": "matrice"}).status_code
    if route == "delete_get":
        return client.get(_url(model, "delete", obj.pk)).status_code
    if route == "delete_post":
        return client.post(_url(model, "delete", obj.pk), {"post": "yes"}).status_code
    if route in ("history", "version_get", "version_post"):
        if route == "history":
            return client.get(_url(model, "history", obj.pk)).status_code
        record = getattr(obj, "history", None)
        if record is None or not record.exists():
            return None
        url = _url(model, "simple_history", obj.pk, record.latest().history_id)
        return (client.get(url) if route == "version_get" else client.post(url, {})).status_code
    raise AssertionError(route)


def _allowed(model: type[models.Model], route: str, role: str, owner: str) -> bool:
    if role == "coordinator":
        return route in COORDINATOR.get(model, set())
    if role.startswith("editor"):
        if route == "list":
            return model in EDITOR_OWN
        return role == f"editor_{owner}" and route in EDITOR_OWN.get(model, set())
    return False


def _assert_refused(status: int, role: str) -> None:
    if role == "anonymous":
        assert status == 302, status  # to the login page
    else:
        assert status in (403, 404), status


ADMIN_CASES = [
    pytest.param(model, route, role, owner, id=f"{model._meta.label}-{route}-{owner}-{role}")
    for model in admin.site._registry
    for route in OBJECT_ROUTES + LIST_ROUTES
    for owner in ("a", "b")
    if owner == "a" or route in OBJECT_ROUTES  # list routes do not depend on an object's owner
    if _has_history(model) or not route.startswith("version")
    for role in ROLES
]


@pytest.mark.parametrize(("model", "route", "role", "owner"), ADMIN_CASES)
def test_admin_matrix(
    client: Client, world: World, model: type[models.Model], route: str, role: str, owner: str
) -> None:
    _login(client, world, role)
    obj = _object_of(model, world.a if owner == "a" else world.b)
    before = database_state()
    status = _request(client, model, route, obj)
    if status is None:
        pytest.skip("no object of this kind to act on")
    if _allowed(model, route, role, owner):
        assert status in (200, 302), status
        return
    if route == "delete_action":
        # An action the list does not offer is answered by the list itself, with a message: it must do nothing.
        assert database_state() == before
        return
    _assert_refused(status, role)
    assert database_state() == before


def test_an_editors_lists_hold_only_what_their_administration_carries(client: Client, world: World) -> None:
    client.force_login(world.a.editor)
    for model in EDITOR_OWN:
        response = client.get(_url(model, "changelist"))
        shown = set(response.context["cl"].result_list.values_list("pk", flat=True))
        if model is Contribution:  # the published ones of the commitment; the pending one waits for moderation
            assert shown == set(world.a.commitment.contributions.published().values_list("pk", flat=True))
            continue
        assert shown == {_object_of(model, world.a).pk}, model
        searched = client.get(_url(model, "changelist"), {"q": "B"})
        assert _object_of(model, world.b).pk not in {o.pk for o in searched.context["cl"].result_list}


def test_an_editors_filters_offer_only_what_the_list_holds(client: Client, world: World) -> None:
    partner = CarrierFactory(commitment=world.a.commitment, role="support").administration
    client.force_login(world.a.editor)
    response = client.get(_url(Commitment, "changelist"))
    offered = {
        str(choice["display"])
        for spec in response.context["cl"].filter_specs
        for choice in spec.choices(response.context["cl"])
    }
    assert {world.a.administration.name, partner.name} <= offered
    assert world.b.administration.name not in offered


def test_an_editors_autocomplete_holds_only_their_commitments(client: Client, world: World) -> None:
    client.force_login(world.a.editor)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "commitments", "model_name": "commitment", "field_name": "predecessor", "term": "Engagement"},
    )
    assert response.status_code == 200
    assert [int(item["id"]) for item in response.json()["results"]] == [world.a.commitment.pk]


# --- Write routes beyond the admin's generic views -------------------------------------------------------------


@dataclass
class WriteRoute:
    name: str
    send: Callable[[Client, World, Side], int]
    # Who may: a role among ROLES, for the commitment of side A.
    allowed: set[str]
    # How a signed-in person is refused, when not by 403 or 404: the import lists "not yours" rows (200).
    refused_with: tuple[int, ...] = (403, 404)
    # Whether an allowed request stores something (a page and a refresh of a manual indicator do not).
    writes: bool = True


def _update(client: Client, world: World, side: Side) -> int:
    prefix = f"indicator-{side.indicator.pk}"
    url = _url(Commitment, "update", side.commitment.pk)
    return client.post(url, {"action": prefix, f"{prefix}-date": "2024-02-02", f"{prefix}-value": "3"}).status_code


def _update_page(client: Client, world: World, side: Side) -> int:
    return client.get(_url(Commitment, "update", side.commitment.pk)).status_code


def _refresh(client: Client, world: World, side: Side) -> int:
    return client.post(_url(Indicator, "refresh_now", side.indicator.pk)).status_code


def _refresh_action(client: Client, world: World, side: Side) -> int:
    data = {"action": "refresh_now", "_selected_action": [side.indicator.pk]}
    return client.post(_url(Indicator, "changelist"), data).status_code


def _api(method: str) -> Callable[[Client, World, Side], int]:
    def send(client: Client, world: World, side: Side) -> int:
        user = client.session.get("_auth_user_id")
        headers = {}
        if user:
            headers["HTTP_AUTHORIZATION"] = f"Token {Token.objects.get_or_create(user_id=user)[0].key}"
            client.logout()
        if method == "value":
            url, data = f"/api/v1/indicators/{side.indicator.pk}/values/", {"date": "2024-02-02", "value": "3"}
        elif method == "correct":
            url, data = f"/api/v1/indicator-values/{side.value.pk}/correct/", {"value": "3", "reason": "matrice"}
        else:
            url, data = f"/api/v1/milestones/{side.milestone.pk}/done/", {"completed_on": "2024-02-02"}
        return client.post(url, data, content_type="application/json", **headers).status_code

    return send


def _import(client: Client, world: World, side: Side) -> int:
    """Upload a file with one new value for the side's indicator, then confirm the preview if one is offered."""
    url = _url(IndicatorValue, "import")
    file = SimpleUploadedFile("valeurs.csv", f"indicateur;date;valeur\n{side.indicator.pk};2024-02-02;3\n".encode())
    response = client.post(url, {"file": file})
    confirm = response.context.get("confirm") if response.status_code == 200 and response.context else None
    if confirm is None:
        return response.status_code
    return client.post(url, {"preview": confirm.initial["preview"]}).status_code


def _invite(client: Client, world: World, side: Side) -> int:
    data = {
        "email": "nouvelle@example.gouv.fr",
        "first_name": "Nouvelle",
        "last_name": "Personne",
        "administration": side.administration.pk,
        "role": "editor",
    }
    return client.post(reverse("admin:accounts_user_invite"), data).status_code


def _awaiting(side: Side) -> Contribution:
    return side.commitment.contributions.published().filter(answer__isnull=True).get()


def _answer(client: Client, world: World, side: Side) -> int:
    data = {"action": "answer", "answer-administration": side.administration.pk, "answer-body": "Réponse."}
    return client.post(_url(Contribution, "change", _awaiting(side).pk), data).status_code


def _change_answer(client: Client, world: World, side: Side) -> int:
    contribution = side.commitment.contributions.order_by("pk").first()
    data = {
        "action": "answer",
        "answer-administration": side.administration.pk,
        "answer-body": "Réponse corrigée.",
        "answer-reason": "matrice",
    }
    return client.post(_url(Contribution, "change", contribution.pk), data).status_code


def _moderate(decision: str) -> Callable[[Client, World, Side], int]:
    def send(client: Client, world: World, side: Side) -> int:
        pending = side.commitment.contributions.get(state=ContributionState.PENDING)
        data = {"action": "moderate", "moderate-decision": decision, "moderate-reason": "Hors sujet."}
        return client.post(_url(Contribution, "change", pending.pk), data).status_code

    return send


def _publish_action(client: Client, world: World, side: Side) -> int:
    pending = side.commitment.contributions.get(state=ContributionState.PENDING)
    data = {"action": "publish_selected", "_selected_action": [pending.pk]}
    return client.post(_url(Contribution, "changelist"), data).status_code


WRITE_ROUTES = [
    WriteRoute("update-page", _update_page, {"editor_a", "coordinator"}, writes=False),
    WriteRoute("update-value", _update, {"editor_a", "coordinator"}),
    WriteRoute("refresh-now", _refresh, {"editor_a", "coordinator"}, writes=False),
    WriteRoute("api-record-value", _api("value"), {"editor_a", "coordinator"}),
    WriteRoute("api-correct-value", _api("correct"), {"editor_a", "coordinator"}),
    WriteRoute("api-milestone-done", _api("done"), {"editor_a", "coordinator"}),
    WriteRoute("csv-import", _import, {"editor_a", "coordinator"}, refused_with=(200,)),
    WriteRoute("invite", _invite, {"coordinator"}),
    WriteRoute("answer", _answer, {"editor_a", "coordinator"}),
    WriteRoute("change-answer", _change_answer, {"editor_a", "coordinator"}),
    WriteRoute("moderate-publish", _moderate("publish"), {"coordinator"}),
    WriteRoute("moderate-reject", _moderate("reject"), {"coordinator"}),
    # The list answers an action it does not offer with a message (200), and does nothing.
    WriteRoute("publish-action", _publish_action, {"coordinator"}, refused_with=(200,)),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", WRITE_ROUTES, ids=lambda route: route.name)
def test_write_route_matrix(client: Client, world: World, route: WriteRoute, role: str) -> None:
    _login(client, world, role)
    before = database_state()
    tokens = set(Token.objects.values_list("key", flat=True))
    status = route.send(client, world, world.a)
    # API tokens are made for the request itself: they are not what the check compares.
    Token.objects.exclude(key__in=tokens).delete()
    if role in route.allowed:
        assert status in (200, 201, 302), status
        assert (database_state() != before) == route.writes
        return
    if route.name.startswith("api"):
        assert status in ((401,) if role == "anonymous" else (403, 404)), status
    elif role == "anonymous":
        _assert_refused(status, role)
    else:
        assert status in route.refused_with, status
    assert database_state() == before


def test_the_refresh_action_ignores_another_administrations_indicator(client: Client, world: World) -> None:
    client.force_login(world.a.editor)
    before = database_state()
    _refresh_action(client, world, world.b)
    assert database_state() == before
