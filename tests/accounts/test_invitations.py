"""Coordinators invite people by e-mail; the link sets a first password once, then signs the person in."""

import html
import re

import pytest
from django.contrib.auth import password_validation
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django.urls import reverse
from django.utils.translation import gettext

from accounts import services
from accounts.models import Membership, MembershipRole, User
from tests.accounts.conftest import staff
from tests.factories import AdministrationFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Une phrase de passe assez longue"
LINK = re.compile(r"https?://\S+/admin/invitation/[^/\s]+/[^/\s]+/")


def _text(response: object) -> str:
    return html.unescape(response.content.decode())


def _invite(django_capture_on_commit_callbacks: object, email: str = "Nouvelle.Personne@Example.gouv.fr") -> User:
    with django_capture_on_commit_callbacks(execute=True):
        return services.invite_member(
            email=email,
            first_name="Nouvelle",
            last_name="Personne",
            administration=AdministrationFactory(),
            role=MembershipRole.EDITOR,
            invited_by=staff(),
            base_url="https://opengov.example.org/",
        )


def _link_path() -> str:
    link = LINK.search(mail.outbox[-1].body).group(0)
    return link.removeprefix("https://opengov.example.org")


def _open_link(client: Client, path: str) -> object:
    """The link redirects to the same page without its token (kept in the session), as Django's reset does."""
    response = client.get(path)
    assert response.status_code == 302
    return client.get(response["Location"])


def _choose_password(client: Client, password: str = NEW_PASSWORD) -> object:
    path = _link_path()
    form_page = _open_link(client, path)
    assert form_page.status_code == 200
    return client.post(form_page.request["PATH_INFO"], {"new_password1": password, "new_password2": password})


def test_a_coordinator_invites_from_the_user_list(client: Client, django_capture_on_commit_callbacks: object) -> None:
    coordinator = staff()
    administration = AdministrationFactory()
    client.force_login(coordinator)

    listing = client.get(reverse("admin:accounts_user_changelist"))
    form = client.get(reverse("admin:accounts_user_invite"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:accounts_user_invite"),
            {
                "email": "camille.martin@example.gouv.fr",
                "first_name": "Camille",
                "last_name": "Martin",
                "administration": administration.pk,
                "role": MembershipRole.COORDINATOR,
            },
        )

    assert reverse("admin:accounts_user_invite") in listing.content.decode()
    assert form.status_code == 200
    assert response.status_code == 302
    user = User.objects.get(username="camille.martin@example.gouv.fr")
    assert (user.email, user.first_name, user.last_name) == ("camille.martin@example.gouv.fr", "Camille", "Martin")
    assert user.is_staff and user.is_active and not user.is_superuser
    assert not user.has_usable_password()
    membership = Membership.objects.get(user=user)
    assert (membership.administration, membership.role) == (administration, MembershipRole.COORDINATOR)
    assert membership.history.get().history_user == coordinator
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["camille.martin@example.gouv.fr"]
    assert LINK.search(mail.outbox[0].body)


def test_the_e_mail_is_sent_only_after_the_commit(django_capture_on_commit_callbacks: object) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.invite_member(
            email="a@example.gouv.fr",
            first_name="A",
            last_name="B",
            administration=AdministrationFactory(),
            role=MembershipRole.EDITOR,
            invited_by=staff(),
            base_url="https://opengov.example.org",
        )

    assert len(callbacks) == 1
    assert mail.outbox == []


def test_the_link_sets_the_password_and_signs_in(client: Client, django_capture_on_commit_callbacks: object) -> None:
    user = _invite(django_capture_on_commit_callbacks)
    assert user.username == "nouvelle.personne@example.gouv.fr"

    response = _choose_password(client)

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.get(reverse("admin:index")).status_code == 200


@override_settings(OTP_REQUIRED=True)
def test_with_a_second_factor_required_the_link_leads_to_its_set_up(
    client: Client, django_capture_on_commit_callbacks: object
) -> None:
    _invite(django_capture_on_commit_callbacks)

    response = _choose_password(client)

    assert response["Location"].startswith(reverse("admin:second_factor_enrol"))
    assert client.get(reverse("admin:index")).status_code == 302


def test_the_link_works_once(client: Client, django_capture_on_commit_callbacks: object) -> None:
    user = _invite(django_capture_on_commit_callbacks)
    path = _link_path()
    _choose_password(client)
    user.refresh_from_db()
    hashed = user.password

    again = Client().get(path)
    posted = Client().post(
        path, {"new_password1": "Un autre mot de passe long", "new_password2": "Un autre mot de passe long"}
    )

    assert again.status_code == 200
    assert "new_password1" not in again.content.decode()
    assert gettext("This invitation link no longer works") in _text(again)
    assert "new_password1" not in posted.content.decode()
    user.refresh_from_db()
    assert user.password == hashed


def test_a_weak_password_is_refused_with_the_validators_messages(
    client: Client, django_capture_on_commit_callbacks: object
) -> None:
    user = _invite(django_capture_on_commit_callbacks)

    response = _choose_password(client, "12345678")

    with pytest.raises(ValidationError) as expected:
        password_validation.validate_password("12345678", user)
    assert response.status_code == 200
    for message in expected.value.messages:
        assert message in _text(response)
    user.refresh_from_db()
    assert not user.has_usable_password()
    assert "_auth_user_id" not in client.session


def test_the_minimum_length_is_twelve(django_capture_on_commit_callbacks: object) -> None:
    user = _invite(django_capture_on_commit_callbacks)

    with pytest.raises(ValidationError):
        password_validation.validate_password("Kx9!qLm2#vR", user)  # 11 characters
    password_validation.validate_password("Kx9!qLm2#vRt", user)


def test_an_address_that_has_an_account_is_refused(client: Client, django_capture_on_commit_callbacks: object) -> None:
    coordinator = staff()
    existing = staff(role=None, email="deja@example.gouv.fr")
    client.force_login(coordinator)
    count = User.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:accounts_user_invite"),
            {
                "email": "DEJA@example.gouv.fr",
                "first_name": "Déjà",
                "last_name": "Là",
                "administration": AdministrationFactory().pk,
                "role": MembershipRole.EDITOR,
            },
        )

    assert response.status_code == 200
    assert gettext(
        "E-mail address: an account already uses this address, and an address opens one account "
        "only. Add a membership to that account instead."
    ) in _text(response)
    assert User.objects.count() == count
    assert not Membership.objects.filter(user=existing).exists()
    assert mail.outbox == []


def test_an_editor_cannot_invite(client: Client, django_capture_on_commit_callbacks: object) -> None:
    editor = staff(role=MembershipRole.EDITOR)
    client.force_login(editor)
    count = User.objects.count()
    url = reverse("admin:accounts_user_invite")

    with django_capture_on_commit_callbacks(execute=True):
        page = client.get(url)
        posted = client.post(
            url,
            {
                "email": "x@example.gouv.fr",
                "first_name": "X",
                "last_name": "Y",
                "administration": editor.memberships.get().administration_id,
                "role": MembershipRole.COORDINATOR,
            },
        )

    assert (page.status_code, posted.status_code) == (403, 403)
    assert User.objects.count() == count
    assert mail.outbox == []


def test_resending_an_invitation_replaces_the_link(client: Client, django_capture_on_commit_callbacks: object) -> None:
    user = _invite(django_capture_on_commit_callbacks)
    first = _link_path()
    coordinator = staff()
    client.force_login(coordinator)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:accounts_user_changelist"),
            {"action": "resend_invitation", "_selected_action": [user.pk]},
        )

    assert response.status_code == 302
    assert len(mail.outbox) == 2
    assert mail.outbox[1].to == [user.email]
    assert Client().get(first).status_code == 200, "the first link now shows the failure page"
    assert Client().get(_link_path()).status_code == 302, "the new link opens the form"


def test_an_invitation_is_not_resent_to_someone_with_a_password(
    client: Client, django_capture_on_commit_callbacks: object
) -> None:
    member = staff(role=MembershipRole.EDITOR)
    hashed = member.password
    client.force_login(staff())

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:accounts_user_changelist"), {"action": "resend_invitation", "_selected_action": [member.pk]}
        )

    assert mail.outbox == []
    member.refresh_from_db()
    assert member.password == hashed
