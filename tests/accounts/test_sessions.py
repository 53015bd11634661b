"""Sessions end after inactivity and with the browser; their cookie is HttpOnly and SameSite=Lax; the public
pages start none, so that they stay cacheable."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client, override_settings
from django.urls import reverse

from tests.accounts.conftest import PASSWORD, staff

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def test_the_session_rules() -> None:
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"


def test_the_idle_time_and_the_lockout_come_from_the_environment() -> None:
    clean = {key: value for key, value in os.environ.items() if key not in {"SESSION_IDLE_SECONDS", "DATABASE_URL"}}
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.SESSION_COOKIE_AGE, settings.AXES_COOLOFF_TIME.total_seconds(), settings.EMAIL_BACKEND)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean
        | {
            "DJANGO_SETTINGS_MODULE": "opengov.settings",
            "ENV_FILE": os.devnull,
            "DEBUG": "true",
            "SESSION_IDLE_SECONDS": "600",
            "LOGIN_LOCKOUT_MINUTES": "30",
            "EMAIL_URL": "smtp+tls://mailer@smtp.example.org:587",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.stdout.split() == ["600", "1800.0", "django.core.mail.backends.smtp.EmailBackend"]


def test_the_session_cookie_is_http_only_and_same_site(client: Client) -> None:
    user = staff()

    response = client.post(reverse("admin:login"), {"username": user.username, "password": PASSWORD, "next": "/admin/"})

    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == "", "a browser-session cookie"


@override_settings(SESSION_COOKIE_AGE=2)
def test_a_session_ends_after_inactivity_and_activity_keeps_it(client: Client) -> None:
    client.force_login(staff())

    time.sleep(1.2)
    assert client.get(reverse("admin:index")).status_code == 200
    time.sleep(1.2)  # 2.4 s after signing in, 1.2 s after the last request
    assert client.get(reverse("admin:index")).status_code == 200
    time.sleep(2.2)
    response = client.get(reverse("admin:index"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_an_anonymous_visit_to_the_home_page_starts_no_session(client: Client) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert not response.cookies
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.get("Vary", "")
    assert "public" in response["Cache-Control"]


def test_the_cookie_of_a_session_that_ended_is_dropped_not_renewed(client: Client) -> None:
    client.force_login(staff())
    Session.objects.all().delete()  # as when it expires and clearsessions runs

    response = client.get("/")

    assert response.status_code == 200
    assert response.cookies[settings.SESSION_COOKIE_NAME].value == ""
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 0
    assert not Session.objects.exists()
