"""The probes (/healthz, /readyz) and `manage.py healthcheck`, in-process; tests/deploy runs them against real
processes."""

import os
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.http import HttpResponse
from django.test import Client, RequestFactory

from opengov.beat import heartbeat_path
from opengov.middleware import HeadResponseMiddleware
from tests.indicators.services import free_port

pytestmark = pytest.mark.django_db


def test_readyz_names_each_check(client: Client, settings: object) -> None:
    settings.REDIS_URL = ""
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "migrations": "ok",
    }


def test_readyz_is_unavailable_without_redis_and_says_nothing_of_where_it_is(
    client: Client, settings: object, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    settings.REDIS_URL = f"redis://:s3cret@127.0.0.1:{port}/0"
    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["redis"]["status"] == "unavailable"
    assert body["checks"]["database"]["status"] == "ok"
    text = response.content.decode()
    assert "s3cret" not in text and str(port) not in text and "127.0.0.1" not in text
    # The reason is in the log, on one line.
    warning = next(record for record in caplog.records if record.name == "opengov.health")
    assert "redis" in warning.getMessage() and warning.exc_info is None


def test_readyz_says_when_migrations_are_pending(client: Client) -> None:
    # As after deploying new code before its release step: the last migration is not recorded as applied.
    recorder = MigrationRecorder(connection)
    last = recorder.migration_qs.filter(app="forums").order_by("-id").first()
    recorder.record_unapplied(last.app, last.name)
    try:
        response = client.get("/readyz")
    finally:
        recorder.record_applied(last.app, last.name)

    assert response.status_code == 503
    migrations = response.json()["checks"]["migrations"]
    assert (migrations["status"], migrations["count"]) == ("pending", 1)


def test_healthz_answers_without_the_database(client: Client, django_assert_num_queries: object) -> None:
    with django_assert_num_queries(0):
        response = client.get("/healthz", HTTP_HOST="10.1.2.3:8000")

    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_the_web_health_check_fails_when_nothing_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_BIND", f"0.0.0.0:{free_port()}")

    with pytest.raises(CommandError, match="ne répond pas"):
        call_command("healthcheck", "web", "--timeout", "1")


def test_the_beat_health_check_reads_the_heartbeat(settings: object, tmp_path: Path) -> None:
    settings.CELERY_BEAT_SCHEDULE_FILENAME = str(tmp_path / "beat-schedule")
    heartbeat = heartbeat_path(settings.CELERY_BEAT_SCHEDULE_FILENAME)

    with pytest.raises(CommandError, match="n'a pas démarré"):
        call_command("healthcheck", "beat")
    heartbeat.touch()
    call_command("healthcheck", "beat")
    four_minutes_ago = time.time() - 240
    os.utime(heartbeat, (four_minutes_ago, four_minutes_ago))
    with pytest.raises(CommandError, match=r"24[01] secondes"):
        call_command("healthcheck", "beat")


def test_a_head_answer_keeps_its_headers_and_drops_its_body() -> None:
    middleware = HeadResponseMiddleware(lambda request: HttpResponse(b"<p>page</p>"))

    head = middleware(RequestFactory().head("/"))
    get = middleware(RequestFactory().get("/"))

    assert head.content == b"" and head["Content-Length"] == "11"
    assert get.content == b"<p>page</p>"
