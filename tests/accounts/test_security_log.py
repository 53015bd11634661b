"""The security log (logger "opengov.security"): sign-ins, failures, lockouts, refusals, invitations, second factors."""

import logging

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from accounts import services
from accounts.models import MembershipRole
from tests.accounts.conftest import PASSWORD, code, staff
from tests.factories import AdministrationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def security_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="opengov.security")
    return caplog


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "opengov.security"]


def _sign_in(client: Client, username: str, password: str = PASSWORD) -> object:
    return client.post(
        reverse("admin:login"), {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR="192.0.2.7"
    )


def test_a_sign_in_is_logged_with_its_address(client: Client, security_log: pytest.LogCaptureFixture) -> None:
    user = staff(username="alice")

    _sign_in(client, "alice")

    assert f"Login succeeded: user='{user.username}' address=192.0.2.7" in _lines(security_log)


def test_a_failure_is_logged_without_the_password(client: Client, security_log: pytest.LogCaptureFixture) -> None:
    staff(username="alice")

    _sign_in(client, "alice", "hunter2-guess")

    assert "Login failed (password): username='alice' address=192.0.2.7" in _lines(security_log)
    assert "hunter2-guess" not in security_log.text


def test_a_crafted_name_cannot_forge_a_line(client: Client, security_log: pytest.LogCaptureFixture) -> None:
    _sign_in(client, "mallory\nLogin succeeded: user='admin'")

    assert all("\n" not in line for line in _lines(security_log))


def test_a_lockout_is_logged(client: Client, security_log: pytest.LogCaptureFixture) -> None:
    staff(username="alice")

    for _ in range(5):
        _sign_in(client, "alice", "wrong")

    assert "Login locked out: username='alice' address=192.0.2.7" in _lines(security_log)


def test_a_refusal_is_logged_with_path_and_user(client: Client, security_log: pytest.LogCaptureFixture) -> None:
    editor = staff(role=MembershipRole.EDITOR, username="edith")
    client.force_login(editor)
    url = reverse("admin:accounts_user_invite")

    assert client.get(url).status_code == 403

    assert f"Access refused (403): path='{url}' method=GET user='edith' address=127.0.0.1" in _lines(security_log)


def test_an_invitation_is_logged(
    security_log: pytest.LogCaptureFixture, django_capture_on_commit_callbacks: object
) -> None:
    coordinator = staff(username="cora")

    with django_capture_on_commit_callbacks(execute=True):
        services.invite_member(
            email="new.person@example.gouv.fr",
            first_name="New",
            last_name="Person",
            administration=AdministrationFactory(),
            role=MembershipRole.EDITOR,
            invited_by=coordinator,
            base_url="https://opengov.example.org",
        )

    assert "Invitation sent: user='new.person@example.gouv.fr' email='new.person@example.gouv.fr' by='cora'" in _lines(
        security_log
    )


@override_settings(OTP_REQUIRED=True)
def test_a_second_factor_enrolment_is_logged(client: Client, security_log: pytest.LogCaptureFixture) -> None:
    user = staff(username="alice")
    _sign_in(client, "alice")
    device = services.start_totp_enrolment(user=user)

    client.post(reverse("admin:second_factor_enrol"), {"code": code(device)}, REMOTE_ADDR="192.0.2.7")

    assert "Second factor enrolled: user='alice' address=192.0.2.7" in _lines(security_log)


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_trusted_proxy_the_address_is_the_one_it_forwards(
    client: Client, security_log: pytest.LogCaptureFixture
) -> None:
    staff(username="alice")

    client.post(
        reverse("admin:login"),
        {"username": "alice", "password": "wrong"},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.4",
    )

    assert "Login failed (password): username='alice' address=198.51.100.4" in _lines(security_log)
