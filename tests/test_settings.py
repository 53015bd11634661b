"""The settings read the environment; these run a fresh interpreter so that each sees only its own."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _django(code: str, **environment: str) -> subprocess.CompletedProcess:
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL"}
    }
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); from django.conf import settings; {code}"],
        cwd=ROOT,
        # ENV_FILE: a developer's .env must not leak into what these tests read.
        env=clean | {"DJANGO_SETTINGS_MODULE": "opengov.settings", "ENV_FILE": os.devnull} | environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_with_debug_off_the_app_refuses_to_start_without_a_secret_key() -> None:
    result = _django("print('started')", DEBUG="false")

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


@pytest.mark.parametrize("debug", ["false", "true"])
def test_a_given_secret_key_is_used(debug: str) -> None:
    result = _django("print(settings.SECRET_KEY)", DEBUG=debug, SECRET_KEY="given-secret")

    assert result.stdout.strip() == "given-secret"


def test_a_local_run_keeps_a_generated_key_under_var() -> None:
    first = _django("print(settings.SECRET_KEY)", DEBUG="true")
    second = _django("print(settings.SECRET_KEY)", DEBUG="true")

    assert first.stdout == second.stdout
    assert first.stdout.strip() == (ROOT / "var" / "secret_key").read_text().strip()


def test_the_embedded_default_needs_no_service() -> None:
    result = _django(
        "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_TASK_ALWAYS_EAGER, "
        "settings.CACHES['default']['BACKEND'])",
        DEBUG="true",
    )

    engine, eager, cache = result.stdout.split()
    assert (engine, eager) == ("django.db.backends.sqlite3", "True")
    assert cache.endswith("LocMemCache")


def test_services_come_from_the_environment() -> None:
    result = _django(
        "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_BROKER_URL, settings.CELERY_TASK_ALWAYS_EAGER, "
        "settings.ALLOWED_HOSTS)",
        DEBUG="false",
        SECRET_KEY="s",
        DATABASE_URL="postgres://u@127.0.0.1:5432/opengov",
        REDIS_URL="redis://127.0.0.1:6379/0",
        ALLOWED_HOSTS="opengov.example.org,www.opengov.example.org",
    )

    assert result.stdout.split(" ", 3) == [
        "django.db.backends.postgresql",
        "redis://127.0.0.1:6379/0",
        "False",
        "['opengov.example.org', 'www.opengov.example.org']\n",
    ]


@pytest.mark.parametrize("command", [["check"], ["makemigrations", "--check", "--dry-run"], ["migrate"]])
def test_manage_py_says_what_is_missing_without_a_stack_trace(command: list[str]) -> None:
    # A bare environment, as on a fresh machine. Django runs its checks in an order that follows where
    # their functions sit in memory, which the environment's size shifts: with this one, the model
    # check came first and hid the missing key behind "Models aren't loaded yet".
    bare = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/"), "ENV_FILE": os.devnull}
    result = subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env=bare,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert result.stderr.startswith("opengov: SECRET_KEY must be set when DEBUG is off")
    assert "Traceback" not in result.stderr


def test_a_malformed_allowed_network_stops_start_up_with_a_sentence() -> None:
    result = _django("print('started')", DEBUG="true", INDICATOR_SOURCES_ALLOWED_NETWORKS="10.0.0.0/8,intranet")
    assert result.returncode != 0
    assert "INDICATOR_SOURCES_ALLOWED_NETWORKS: “intranet” is not a network in CIDR form" in result.stderr
    code = "print(settings.INDICATOR_SOURCES_ALLOWED_NETWORKS)"
    allowed = _django(code, DEBUG="true", INDICATOR_SOURCES_ALLOWED_NETWORKS="10.0.0.0/8")
    assert allowed.stdout.strip() == "['10.0.0.0/8']"
