"""Who manages accounts in the admin: coordinators (never a superuser's account nor platform rights), superusers
(everything), editors (nothing, not even their own role). Each refusal leaves the database as it was."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from accounts.models import Membership, MembershipRole, User
from tests.accounts.conftest import PASSWORD, staff
from tests.factories import AdministrationFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def _change_url(user: User) -> str:
    return reverse("admin:accounts_user_change", args=[user.pk])


def _change_data(user: User, **changes: object) -> dict:
    """What the user's change page posts, memberships included."""
    memberships = list(user.memberships.all())
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "is_staff": "on",
        # Only superusers' forms have them; others show them read-only and ignore them.
        "date_joined_0": user.date_joined.date().isoformat(),
        "date_joined_1": user.date_joined.time().strftime("%H:%M:%S"),
        "memberships-TOTAL_FORMS": len(memberships),
        "memberships-INITIAL_FORMS": len(memberships),
        "memberships-MIN_NUM_FORMS": 0,
        "memberships-MAX_NUM_FORMS": 1000,
    }
    for index, membership in enumerate(memberships):
        data |= {
            f"memberships-{index}-id": membership.pk,
            f"memberships-{index}-user": user.pk,
            f"memberships-{index}-administration": membership.administration_id,
            f"memberships-{index}-role": membership.role,
        }
    return data | changes


def _snapshot(user: User) -> tuple:
    user.refresh_from_db()
    return (
        user.username,
        user.first_name,
        user.email,
        user.password,
        user.is_staff,
        user.is_superuser,
        sorted(user.groups.values_list("pk", flat=True)),
        sorted(user.memberships.values_list("administration_id", "role")),
    )


@pytest.fixture
def coordinator_client(client: Client) -> Client:
    client.force_login(staff(role=MembershipRole.COORDINATOR))
    return client


def test_a_coordinator_changes_an_account_but_grants_no_platform_rights(coordinator_client: Client) -> None:
    editor = staff(role=MembershipRole.EDITOR)
    group = Group.objects.create(name="Opérations")

    page = coordinator_client.get(_change_url(editor))
    response = coordinator_client.post(
        _change_url(editor),
        _change_data(editor, first_name="Renamed", is_superuser="on", groups=[group.pk]),
    )

    assert page.status_code == 200
    form = page.context["adminform"].form
    assert not {"is_superuser", "groups", "user_permissions"} & set(form.fields)
    assert reverse("admin:auth_user_password_change", args=[editor.pk]) not in page.content.decode()
    assert response.status_code == 302
    editor.refresh_from_db()
    assert editor.first_name == "Renamed"
    assert not editor.is_superuser
    assert not editor.groups.exists()


def test_a_coordinator_changes_memberships_with_history(coordinator_client: Client) -> None:
    editor = staff(role=MembershipRole.EDITOR)
    membership = editor.memberships.get()

    coordinator_client.post(_change_url(editor), _change_data(editor, **{"memberships-0-role": "coordinator"}))

    membership.refresh_from_db()
    assert membership.role == MembershipRole.COORDINATOR
    assert membership.history.latest().history_user.pk == int(coordinator_client.session["_auth_user_id"])


def test_a_coordinator_cannot_change_a_superuser(coordinator_client: Client) -> None:
    superuser = UserFactory(is_staff=True, is_superuser=True, first_name="Root")
    before = _snapshot(superuser)

    page = coordinator_client.get(_change_url(superuser))
    response = coordinator_client.post(
        _change_url(superuser), _change_data(superuser, first_name="Hacked", is_superuser="")
    )
    password = coordinator_client.post(
        reverse("admin:auth_user_password_change", args=[superuser.pk]),
        {"password1": "Un nouveau mot de passe", "password2": "Un nouveau mot de passe"},
    )

    assert page.status_code == 200, "a superuser's account can be read"
    assert page.context["has_change_permission"] is False
    assert (response.status_code, password.status_code) == (403, 403)
    assert _snapshot(superuser) == before


def test_a_coordinator_cannot_set_someone_elses_password(coordinator_client: Client) -> None:
    editor = staff(role=MembershipRole.EDITOR)
    before = _snapshot(editor)
    url = reverse("admin:auth_user_password_change", args=[editor.pk])

    page = coordinator_client.get(url)
    response = coordinator_client.post(
        url, {"password1": "Un nouveau mot de passe", "password2": "Un nouveau mot de passe"}
    )

    assert (page.status_code, response.status_code) == (403, 403)
    assert _snapshot(editor) == before


def test_a_coordinator_neither_adds_an_account_directly_nor_deletes_one(coordinator_client: Client) -> None:
    editor = staff(role=MembershipRole.EDITOR)
    count = User.objects.count()

    add = coordinator_client.post(
        reverse("admin:accounts_user_add"),
        {"username": "direct", "password1": "Un mot de passe long", "password2": "Un mot de passe long"},
    )
    delete = coordinator_client.post(reverse("admin:accounts_user_delete", args=[editor.pk]), {"post": "yes"})

    assert (add.status_code, delete.status_code) == (403, 403)
    assert User.objects.count() == count


def test_a_coordinator_cannot_delete_a_superusers_membership(coordinator_client: Client) -> None:
    membership = MembershipFactory(user=UserFactory(is_staff=True, is_superuser=True))

    single = coordinator_client.post(reverse("admin:accounts_membership_delete", args=[membership.pk]), {"post": "yes"})
    bulk = coordinator_client.post(
        reverse("admin:accounts_membership_changelist"),
        {"action": "delete_selected", "_selected_action": [membership.pk], "post": "yes"},
    )

    assert single.status_code == 403
    assert bulk.status_code == 403
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_a_superuser_manages_everything(client: Client) -> None:
    superuser = UserFactory(is_staff=True, is_superuser=True)
    other = UserFactory(is_staff=True, is_superuser=True)
    editor = staff(role=MembershipRole.EDITOR)
    client.force_login(superuser)

    page = client.get(_change_url(editor))
    password = client.post(
        reverse("admin:auth_user_password_change", args=[editor.pk]),
        {"password1": "Un nouveau mot de passe", "password2": "Un nouveau mot de passe"},
    )
    response = client.post(_change_url(other), _change_data(other, first_name="Changed", is_superuser="on"))

    assert {"is_superuser", "groups", "user_permissions", "password"} <= set(page.context["adminform"].form.fields)
    assert password.status_code == 302
    editor.refresh_from_db()
    assert editor.check_password("Un nouveau mot de passe")
    assert response.status_code == 302
    other.refresh_from_db()
    assert other.first_name == "Changed"
    assert client.get(reverse("admin:accounts_user_add")).status_code == 200


def test_an_editor_sees_neither_accounts_nor_memberships(client: Client) -> None:
    editor = staff(role=MembershipRole.EDITOR)
    membership = editor.memberships.get()
    client.force_login(editor)
    before = _snapshot(editor)

    index = client.get(reverse("admin:index"))
    statuses = [
        client.get(reverse("admin:accounts_user_changelist")).status_code,
        client.get(_change_url(editor)).status_code,
        client.get(reverse("admin:accounts_membership_changelist")).status_code,
        client.get(reverse("admin:accounts_membership_change", args=[membership.pk])).status_code,
        client.post(_change_url(editor), _change_data(editor, **{"memberships-0-role": "coordinator"})).status_code,
        client.post(
            reverse("admin:accounts_membership_change", args=[membership.pk]),
            {"user": editor.pk, "administration": membership.administration_id, "role": "coordinator"},
        ).status_code,
        client.post(
            reverse("admin:accounts_membership_add"),
            {"user": editor.pk, "administration": AdministrationFactory().pk, "role": "coordinator"},
        ).status_code,
    ]

    assert index.status_code == 200
    assert reverse("admin:accounts_user_changelist") not in index.content.decode()
    assert reverse("admin:accounts_membership_changelist") not in index.content.decode()
    # A membership by its URL is not found for an editor (404), as any object outside one's scope.
    assert statuses == [403, 403, 403, 404, 403, 404, 403]
    assert _snapshot(editor) == before


def test_the_membership_admin_records_who_changed_what(coordinator_client: Client) -> None:
    editor = staff(role=MembershipRole.EDITOR)
    administration = AdministrationFactory()

    response = coordinator_client.post(
        reverse("admin:accounts_membership_add"),
        {"user": editor.pk, "administration": administration.pk, "role": "editor"},
    )

    assert response.status_code == 302
    membership = Membership.objects.get(user=editor, administration=administration)
    assert membership.history.get().history_user.pk == int(coordinator_client.session["_auth_user_id"])


def test_staff_without_a_role_cannot_open_the_workspace(client: Client) -> None:
    user = staff(role=None)

    response = client.post(reverse("admin:login"), {"username": user.username, "password": PASSWORD, "next": "/admin/"})

    assert client.get(response["Location"]).status_code == 302
