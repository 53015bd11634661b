"""django-axes: five failed sign-ins lock an account from one address, for a cool-off that ends by itself."""

import datetime
import html
import time

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse
from django.utils.translation import ngettext

from tests.accounts.conftest import PASSWORD, code, staff
from tests.factories import TOTPDeviceFactory

pytestmark = pytest.mark.django_db

OTHER_ADDRESS = "192.0.2.44"


def _sign_in(client: Client, username: str, password: str = PASSWORD, address: str = "127.0.0.1") -> object:
    return client.post(
        reverse("admin:login"), {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=address
    )


def _fail(client: Client, username: str, times: int, address: str = "127.0.0.1") -> list[int]:
    return [_sign_in(client, username, "not the password", address).status_code for _ in range(times)]


def _locked_message(minutes: int) -> str:
    return ngettext(
        "Too many failed sign-ins: this account is locked for %(minutes)s minute from this address.",
        "Too many failed sign-ins: this account is locked for %(minutes)s minutes from this address.",
        minutes,
    ) % {"minutes": minutes}


def test_the_rules_are_five_failures_per_account_and_address_for_fifteen_minutes() -> None:
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert settings.AXES_RESET_ON_SUCCESS is True
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"


def test_five_failures_lock_the_account_from_that_address(client: Client) -> None:
    user = staff()

    statuses = _fail(client, user.username, 5)
    response = _sign_in(client, user.username)

    assert statuses == [200, 200, 200, 200, 429]
    assert response.status_code == 429
    assert _locked_message(15) in html.unescape(response.content.decode())
    assert response["Retry-After"] == str(15 * 60)
    assert "_auth_user_id" not in client.session


def test_another_address_is_not_locked(client: Client) -> None:
    user = staff()
    _fail(client, user.username, 5)

    response = _sign_in(Client(), user.username, address=OTHER_ADDRESS)

    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_another_account_from_the_same_address_is_not_locked(client: Client) -> None:
    locked, other = staff(), staff()
    _fail(client, locked.username, 5)

    assert _sign_in(Client(), other.username).status_code == 302


@override_settings(AXES_COOLOFF_TIME=datetime.timedelta(seconds=2))
def test_the_lock_ends_by_itself_after_the_cool_off(client: Client) -> None:
    user = staff()
    assert _fail(client, user.username, 5)[-1] == 429

    time.sleep(2.2)
    response = _sign_in(client, user.username)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_successful_sign_in_clears_the_count(client: Client) -> None:
    user = staff()
    _fail(client, user.username, 4)

    assert _sign_in(client, user.username).status_code == 302
    assert not AccessAttempt.objects.filter(username=user.username).exists()
    assert _fail(Client(), user.username, 4) == [200, 200, 200, 200]


@override_settings(OTP_REQUIRED=True)
def test_wrong_codes_count_as_failures(client: Client) -> None:
    user = staff()
    device = TOTPDeviceFactory(user=user)
    _sign_in(client, user.username)

    statuses = [
        client.post(reverse("admin:second_factor"), {"code": code(device, offset=10)}).status_code for _ in range(5)
    ]
    after = client.post(reverse("admin:second_factor"), {"code": code(device)})

    assert statuses == [200, 200, 200, 200, 429]
    # The half-finished sign-in is forgotten: the password step is needed again, and it is locked.
    assert after["Location"].startswith(reverse("admin:login"))
    assert _sign_in(client, user.username).status_code == 429
    assert "_auth_user_id" not in client.session


@override_settings(OTP_REQUIRED=True)
def test_a_lock_set_meanwhile_refuses_even_the_right_code(client: Client) -> None:
    user = staff()
    device = TOTPDeviceFactory(user=user)
    _sign_in(client, user.username)
    _fail(Client(), user.username, 5)

    response = client.post(reverse("admin:second_factor"), {"code": code(device)})

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
