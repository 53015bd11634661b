"""What a production configuration sends: security headers on every kind of response, cookies, the redirect to
HTTPS, Django's deployment checks, and logs that name each request without showing visitors an error."""

import json
import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path

import opengov.urls
from opengov.logs import JsonFormatter
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent
# As a deployment behind its TLS proxy sets them (docs/operations.md).
PRODUCTION = {
    "ENV_FILE": os.devnull,
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "opengov.example.gouv.fr",
    "SITE_URL": "https://opengov.example.gouv.fr",
    "TRUSTED_PROXY_COUNT": "1",
}
PRODUCTION_SETTINGS = [
    "SECURE_SSL_REDIRECT",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "LANGUAGE_COOKIE_SECURE",
]


def _run(arguments: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "DATABASE_URL", "REDIS_URL"}}
    return subprocess.run(
        [sys.executable, *arguments], cwd=ROOT, env=clean | environment, capture_output=True, text=True, timeout=120
    )


def _production_values() -> dict:
    """The settings a production environment gives, read by a fresh interpreter (they follow DEBUG)."""
    names = json.dumps(PRODUCTION_SETTINGS)
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name) for name in {names}}}))"
    )
    result = _run(["-c", code], PRODUCTION | {"DJANGO_SETTINGS_MODULE": "opengov.settings"})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_django_deployment_checks_report_nothing_with_production_settings(tmp_path: Path) -> None:
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        PRODUCTION | {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"},
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_without_debug_the_defaults_are_the_secure_ones() -> None:
    values = _production_values()

    assert values == {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SECURE_HSTS_SECONDS": 365 * 24 * 3600,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "LANGUAGE_COOKIE_SECURE": True,
    }


# --- Headers on every kind of response, with the production values ----------------------------------------


def _failing_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug the visitor must not read about")


# The site's URLs, plus a page and an API route that fail, to see the 500s (pytest.mark.urls below).
urlpatterns = [
    path("api/v1/test-failure/", _failing_view),
    path("test-failure/", _failing_view),
    *opengov.urls.urlpatterns,
]
handler404 = opengov.urls.handler404
handler500 = opengov.urls.handler500


@pytest.fixture
def production(settings: object) -> None:
    values = _production_values()
    values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"])
    for name, value in values.items():
        setattr(settings, name, value)
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["opengov.example.gouv.fr"]


def _through_the_proxy(client: Client, url: str) -> HttpResponse:
    """A request as the TLS proxy forwards it: over HTTPS, by the public name."""
    return client.get(url, HTTP_HOST="opengov.example.gouv.fr", HTTP_X_FORWARDED_PROTO="https")


def assert_hardened(response: HttpResponse, what: str) -> None:
    headers = response.headers
    assert headers.get("Strict-Transport-Security") == "max-age=31536000; includeSubDomains; preload", what
    policy = dict(
        directive.strip().split(" ", 1) for directive in headers.get("Content-Security-Policy", "").split(";")
    )
    assert policy.get("script-src") == "'self'", what
    assert "unsafe" not in policy.get("default-src", "unsafe"), what
    assert policy.get("frame-ancestors") == "'none'", what
    assert policy.get("object-src") == "'none'", what
    assert headers.get("X-Frame-Options") == "DENY", what
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("Referrer-Policy") == "same-origin", what
    assert len(headers.get("X-Request-ID", "")) >= 8, what


@pytest.mark.urls("tests.test_hardening")
@pytest.mark.django_db
def test_every_kind_of_response_carries_the_security_headers(production: None, client: Client) -> None:
    client.raise_request_exception = False
    answers = {
        "page": (_through_the_proxy(client, "/"), 200),
        "API": (_through_the_proxy(client, "/api/v1/plans/"), 200),
        "API documentation": (_through_the_proxy(client, "/api/docs/"), 200),
        "404 page": (_through_the_proxy(client, "/pas-de-page-ici/"), 404),
        "404 of the API": (_through_the_proxy(client, "/api/v1/nothing-here/"), 404),
        "500 page": (_through_the_proxy(client, "/test-failure/"), 500),
        "500 of the API": (_through_the_proxy(client, "/api/v1/test-failure/"), 500),
        "admin sign-in": (_through_the_proxy(client, "/admin/login/"), 200),
        "probe": (_through_the_proxy(client, "/healthz"), 200),
    }
    for what, (response, status) in answers.items():
        assert response.status_code == status, what
        assert_hardened(response, what)

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    admin = _through_the_proxy(client, "/admin/")
    assert admin.status_code == 200
    assert_hardened(admin, "admin")


@pytest.mark.urls("tests.test_hardening")
@pytest.mark.django_db
def test_errors_show_the_request_id_and_never_the_error(production: None, client: Client) -> None:
    client.raise_request_exception = False
    page = _through_the_proxy(client, "/test-failure/")
    api = _through_the_proxy(client, "/api/v1/test-failure/")

    for response in (page, api):
        body = response.content.decode()
        assert "a bug the visitor must not read about" not in body
        assert "Traceback" not in body and "RuntimeError" not in body
    assert page["X-Request-ID"] in page.content.decode()
    assert api.json()["error"]["code"] == "server_error"


@pytest.mark.django_db
def test_cookies_are_secure_http_only_and_same_site(production: None, client: Client) -> None:
    sign_in = _through_the_proxy(client, "/admin/login/")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    admin = _through_the_proxy(client, "/admin/")

    cookies = {**sign_in.cookies, **admin.cookies}
    assert {"csrftoken", "sessionid"} <= set(cookies)
    for name, cookie in cookies.items():
        assert cookie["secure"] is True, name
        assert cookie["httponly"] is True, name
        assert cookie["samesite"] == "Lax", name


@pytest.mark.django_db
def test_plain_http_is_sent_to_https_but_the_probes_are_answered(production: None, client: Client) -> None:
    page = client.get("/forums/", HTTP_HOST="opengov.example.gouv.fr")
    # A probe asks by the container's address, over plain HTTP: neither the host check nor the redirect apply.
    probe = client.get("/healthz", HTTP_HOST="10.0.3.7:8000")

    assert page.status_code == 301
    assert page["Location"] == "https://opengov.example.gouv.fr/forums/"
    assert probe.status_code == 200 and probe.json() == {"status": "ok"}


# --- Logs ---------------------------------------------------------------------------------------------------


@pytest.mark.urls("tests.test_hardening")
@pytest.mark.django_db
def test_a_request_is_logged_as_json_under_its_id(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    client.raise_request_exception = False
    formatter = JsonFormatter()
    with caplog.at_level(logging.INFO):
        failed = client.get("/test-failure/")
        given = client.get("/", HTTP_X_REQUEST_ID="proxy-4f2a9c1e")
        forged = client.get("/", HTTP_X_REQUEST_ID="bad id\nINFO forged line")

    lines = [json.loads(formatter.format(record)) for record in caplog.records]
    failure = failed["X-Request-ID"]
    error = next(line for line in lines if line["level"] == "ERROR")
    assert error["request_id"] == failure
    assert "RuntimeError: a bug the visitor must not read about" in error["exception"]
    access = [line for line in lines if line["logger"] == "opengov.request"]
    assert [(line["path"], line["status"], line["request_id"]) for line in access] == [
        ("/test-failure/", 500, failure),
        ("/", 200, "proxy-4f2a9c1e"),
        ("/", 200, forged["X-Request-ID"]),
    ]
    assert given["X-Request-ID"] == "proxy-4f2a9c1e"
    # An id that could forge a log line is replaced by a new one.
    assert "\n" not in forged["X-Request-ID"] and len(forged["X-Request-ID"]) == 32
    assert all(line["duration_ms"] >= 0 for line in access)
