"""The admin's sign-in: password, then a TOTP code (real codes, django-otp's throttling on) or its set-up."""

import html
import re

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import MembershipRole
from tests.accounts.conftest import PASSWORD, code, staff
from tests.factories import TOTPDeviceFactory

pytestmark = pytest.mark.django_db

WRONG_CODE = "This code is not the right one: enter the 6-digit code your authenticator app shows now."


def _text(response: object) -> str:
    return html.unescape(response.content.decode())


def _sign_in(client: Client, username: str, password: str = PASSWORD, next_url: str = "/admin/") -> object:
    return client.post(reverse("admin:login"), {"username": username, "password": password, "next": next_url})


def _signed_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


@override_settings(OTP_REQUIRED=True)
def test_with_a_second_factor_the_password_alone_does_not_sign_in(client: Client) -> None:
    user = staff()
    TOTPDeviceFactory(user=user)

    response = _sign_in(client, user.username)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:second_factor"))
    assert _signed_in_user_id(client) is None
    assert client.get(reverse("admin:index")).status_code == 302


@override_settings(OTP_REQUIRED=True)
def test_a_missing_or_wrong_code_is_refused_with_a_sentence(client: Client) -> None:
    user = staff()
    device = TOTPDeviceFactory(user=user)
    _sign_in(client, user.username)

    missing = client.post(reverse("admin:second_factor"), {"code": "", "next": "/admin/"})
    wrong = client.post(reverse("admin:second_factor"), {"code": code(device, offset=10), "next": "/admin/"})

    assert missing.status_code == 200
    assert gettext("Enter the 6-digit code your authenticator app shows.") in _text(missing)
    assert wrong.status_code == 200
    assert gettext(WRONG_CODE) in _text(wrong)
    assert _signed_in_user_id(client) is None
    assert client.get(reverse("admin:index")).status_code == 302


@override_settings(OTP_REQUIRED=True)
def test_a_real_code_signs_in_and_opens_the_admin(client: Client) -> None:
    user = staff()
    device = TOTPDeviceFactory(user=user)
    _sign_in(client, user.username, next_url=reverse("admin:accounts_user_changelist"))

    response = client.post(
        reverse("admin:second_factor"),
        {"code": code(device), "next": reverse("admin:accounts_user_changelist")},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:accounts_user_changelist")
    assert _signed_in_user_id(client) == str(user.pk)
    assert client.get(reverse("admin:index")).status_code == 200


@override_settings(OTP_REQUIRED=True)
def test_a_code_is_accepted_once(client: Client) -> None:
    user = staff()
    device = TOTPDeviceFactory(user=user)
    _sign_in(client, user.username)
    used = code(device)
    client.post(reverse("admin:second_factor"), {"code": used, "next": "/admin/"})
    client.logout()

    _sign_in(client, user.username)
    response = client.post(reverse("admin:second_factor"), {"code": used, "next": "/admin/"})

    assert gettext(WRONG_CODE) in _text(response)
    assert _signed_in_user_id(client) is None


@override_settings(OTP_REQUIRED=True)
def test_a_wrong_code_makes_the_next_one_wait(client: Client) -> None:
    user = staff()
    device = TOTPDeviceFactory(user=user)
    _sign_in(client, user.username)
    client.post(reverse("admin:second_factor"), {"code": code(device, offset=10), "next": "/admin/"})

    response = client.post(reverse("admin:second_factor"), {"code": code(device), "next": "/admin/"})

    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    message = ngettext(
        "Too many wrong codes: wait %(seconds)s second before trying again.",
        "Too many wrong codes: wait %(seconds)s seconds before trying again.",
        1,
    ) % {"seconds": 1}
    assert message in _text(response)
    assert _signed_in_user_id(client) is None


@override_settings(OTP_REQUIRED=True)
def test_the_second_step_needs_a_fresh_password_step(client: Client) -> None:
    user = staff()
    device = TOTPDeviceFactory(user=user)

    response = client.post(reverse("admin:second_factor"), {"code": code(device), "next": "/admin/"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert _signed_in_user_id(client) is None


@override_settings(OTP_REQUIRED=True)
def test_enrolment_end_to_end(client: Client) -> None:
    user = staff()

    signed = _sign_in(client, user.username)
    assert signed["Location"].startswith(reverse("admin:second_factor_enrol"))
    # Signed in by the password, but the admin stays shut until a second factor is set up.
    assert client.get(reverse("admin:index")).status_code == 302
    assert client.get(reverse("admin:login"))["Location"].startswith(reverse("admin:second_factor_enrol"))

    page = client.get(signed["Location"])
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    content = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in content
    secret = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', content).group(1)
    assert len(secret.replace(" ", "")) == 32
    assert not re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", content), "no inline script"
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', content), "no external resource"
    assert client.get(reverse("admin:second_factor_enrol")).content.decode().count(secret) == 1, "same secret"

    response = client.post(reverse("admin:second_factor_enrol"), {"code": code(device), "next": "/admin/"})

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("admin:index")).status_code == 200

    # From now on, signing in asks for the code.
    client.logout()
    assert _sign_in(client, user.username)["Location"].startswith(reverse("admin:second_factor"))


@override_settings(OTP_REQUIRED=True)
def test_enrolment_refuses_a_wrong_code(client: Client) -> None:
    user = staff()
    _sign_in(client, user.username)
    client.get(reverse("admin:second_factor_enrol"))
    device = TOTPDevice.objects.get(user=user)

    response = client.post(reverse("admin:second_factor_enrol"), {"code": code(device, offset=10), "next": "/admin/"})

    assert gettext(WRONG_CODE) in _text(response)
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get(reverse("admin:index")).status_code == 302


@override_settings(OTP_REQUIRED=True)
def test_an_unverified_session_cannot_open_admin_pages(client: Client) -> None:
    user = staff()
    client.force_login(user)

    for url in [reverse("admin:index"), reverse("admin:accounts_user_changelist"), reverse("admin:password_change")]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url


@override_settings(OTP_REQUIRED=True)
def test_the_password_alone_cannot_replace_an_authenticator(client: Client) -> None:
    user = staff()
    device = TOTPDeviceFactory(user=user)
    client.force_login(user)

    response = client.get(reverse("admin:second_factor_enrol"))
    posted = client.post(reverse("admin:second_factor_enrol"), {"code": "123456"})

    assert response.status_code == 302
    assert posted.status_code == 302
    assert list(TOTPDevice.objects.filter(user=user)) == [device]


@override_settings(OTP_REQUIRED=True)
def test_a_verified_person_may_move_to_a_new_authenticator(client: Client) -> None:
    user = staff()
    old = TOTPDeviceFactory(user=user)
    _sign_in(client, user.username)
    client.post(reverse("admin:second_factor"), {"code": code(old), "next": "/admin/"})

    client.get(reverse("admin:second_factor_enrol"))
    new = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(reverse("admin:second_factor_enrol"), {"code": code(new), "next": "/admin/"})

    assert response.status_code == 302
    assert list(TOTPDevice.objects.filter(user=user)) == [new]
    assert client.get(reverse("admin:index")).status_code == 200


@override_settings(OTP_REQUIRED=False)
def test_without_the_rule_the_password_alone_signs_in(client: Client) -> None:
    user = staff(role=MembershipRole.EDITOR)

    response = _sign_in(client, user.username)

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert _signed_in_user_id(client) == str(user.pk)
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert reverse("admin:second_factor_enrol") in index.content.decode(), "voluntary set-up in the user links"


@override_settings(OTP_REQUIRED=False)
def test_without_the_rule_a_voluntary_authenticator_is_still_asked(client: Client) -> None:
    user = staff()
    device = TOTPDeviceFactory(user=user)

    assert _sign_in(client, user.username)["Location"].startswith(reverse("admin:second_factor"))
    client.post(reverse("admin:second_factor"), {"code": code(device), "next": "/admin/"})
    assert _signed_in_user_id(client) == str(user.pk)


@override_settings(OTP_REQUIRED=False)
def test_without_the_rule_a_person_may_enrol(client: Client) -> None:
    user = staff(role=MembershipRole.EDITOR)
    client.force_login(user)

    client.get(reverse("admin:second_factor_enrol"))
    device = TOTPDevice.objects.get(user=user)
    response = client.post(reverse("admin:second_factor_enrol"), {"code": code(device), "next": "/admin/"})

    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed


def test_sign_in_goes_only_to_pages_of_this_site(client: Client) -> None:
    user = staff()

    response = _sign_in(client, user.username, next_url="https://elsewhere.example/admin/")

    assert response["Location"] == reverse("admin:index")


@override_settings(OTP_REQUIRED=True)
def test_cancelling_the_second_step_signs_nobody_in(client: Client) -> None:
    user = staff()
    device = TOTPDeviceFactory(user=user)
    _sign_in(client, user.username)

    client.post(reverse("admin:second_factor"), {"cancel": "1"})
    response = client.post(reverse("admin:second_factor"), {"code": code(device), "next": "/admin/"})

    assert response["Location"].startswith(reverse("admin:login"))
    assert _signed_in_user_id(client) is None
