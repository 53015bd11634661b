"""Refreshes run by a real Celery worker on a real Redis, against a real local source, and what
happens when the worker is killed or Redis stops."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from indicators.models import IndicatorRefresh, IndicatorValue
from indicators.tasks import queue_refreshes
from tests.factories import CommitmentFactory, IndicatorFactory, json_indicator
from tests.indicators.services import wait_for
from tests.indicators.source_server import Route

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]


def test_beat_queues_due_indicators_and_the_worker_refreshes_them(source_server, broker, celery_processes) -> None:
    good = json_indicator(source_server.set("/good.json", Route(body=b'{"data": {"total": 42}}')))
    bad = json_indicator(source_server.set("/bad.json", Route(body=b'{"data": {"total": "?"}}')))
    manual = IndicatorFactory()
    celery_processes("worker")
    celery_processes("beat", env={"INDICATOR_SCHEDULE_SECONDS": "1"})
    wait_for(
        lambda: IndicatorRefresh.objects.filter(indicator__in=[good, bad]).count() >= 2,
        timeout=60,
        what="both refreshes",
    )
    assert IndicatorValue.objects.get(indicator=good).value == 42
    assert not IndicatorValue.objects.filter(indicator=bad).exists()
    assert bad.refreshes.get().outcome == "error"
    assert not manual.refreshes.exists()
    # Refreshed once, and not queued again before its interval (one day) is up, however often beat runs.
    good.refresh_from_db()
    assert good.last_refresh_outcome == "new_value"
    assert good.refreshes.count() == 1
    assert source_server.hits["/good.json"] == 1


def test_transient_errors_are_retried_and_permanent_ones_are_not(source_server, broker, celery_processes) -> None:
    flaky = json_indicator(
        source_server.set(
            "/flaky.json",
            Route(status=503, body=b"{}", then=[Route(status=500), Route(body=b'{"data": {"total": 7}}')]),
        )
    )
    gone = json_indicator(source_server.set("/gone.json", Route(status=404, body=b"{}")))
    celery_processes("worker")
    queue_refreshes([flaky.pk, gone.pk], trigger="admin")
    wait_for(lambda: IndicatorValue.objects.filter(indicator=flaky).exists(), timeout=30, what="the retried value")
    attempts = list(flaky.refreshes.order_by("started_at").values_list("attempt", "outcome", "will_retry"))
    assert attempts == [(1, "error", True), (2, "error", True), (3, "new_value", False)]
    assert IndicatorValue.objects.get(indicator=flaky).value == 7
    assert list(gone.refreshes.values_list("attempt", "outcome", "will_retry")) == [(1, "error", False)]
    assert source_server.hits["/gone.json"] == 1


def test_a_worker_killed_mid_refresh_leaves_it_to_run_again_and_one_value_is_stored(
    source_server, broker, celery_processes
) -> None:
    # The source takes two seconds to answer: long enough to kill the worker while it waits.
    slow = json_indicator(source_server.set("/slow.json", Route(body=b'{"data": {"total": 5}}', delay=2)))
    worker = celery_processes("worker")
    queue_refreshes([slow.pk], trigger="admin")
    assert source_server.arrived.wait(timeout=30), worker.log()
    worker.kill()
    assert not IndicatorValue.objects.filter(indicator=slow).exists()
    assert not slow.refreshes.exists()
    # A new worker finds the unacknowledged task once its visibility timeout (3 s here) has passed.
    replacement = celery_processes("worker")
    wait_for(
        lambda: IndicatorRefresh.objects.filter(indicator=slow).exists(),
        timeout=60,
        what=f"the refresh to run again:\n{replacement.log()}",
    )
    assert source_server.hits["/slow.json"] == 2
    assert list(IndicatorValue.objects.filter(indicator=slow).values_list("value", flat=True)) == [5]
    # Delivered once more (as a duplicate message would be), it changes nothing.
    queue_refreshes([slow.pk], trigger="admin")
    wait_for(lambda: slow.refreshes.count() == 2, timeout=30, what="the duplicate to run")
    assert IndicatorValue.objects.filter(indicator=slow).count() == 1
    assert slow.refreshes.order_by("-started_at").first().outcome == "unchanged"


def test_with_redis_stopped_pages_and_api_answer_and_queuing_says_why_it_failed(
    source_server, broker, celery_processes, client, settings
) -> None:
    # The web side uses the same Redis for its cache (and the API's throttling), as in production.
    settings.CACHES = {
        "default": {
            "BACKEND": "opengov.cache.ResilientRedisCache",
            "LOCATION": broker.url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    indicator = json_indicator(
        source_server.set("/count.json", Route(body=b'{"data": {"total": 12}}')),
        commitment=CommitmentFactory(),
    )
    admin = get_user_model().objects.create_superuser("ops", "ops@example.gouv.fr", "x")
    client.force_login(admin)
    celery_processes("worker")

    broker.stop()
    for url in [
        reverse("commitments:home"),
        indicator.commitment.get_absolute_url(),
        indicator.get_absolute_url(),
        "/api/v1/commitments/",
        "/api/v1/indicators/",
    ]:
        assert client.get(url).status_code == 200, url
    refresh_now = reverse("admin:indicators_indicator_refresh_now", args=[indicator.pk])
    response = client.post(refresh_now, follow=True)
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert any("Redis" in m for m in shown), shown
    indicator.refresh_from_db()
    assert indicator.refresh_queued_at is None

    broker.start()
    response = client.post(refresh_now, follow=True)
    assert response.status_code == 200
    wait_for(lambda: IndicatorValue.objects.filter(indicator=indicator).exists(), timeout=60, what="the refresh")
    assert IndicatorValue.objects.get(indicator=indicator).value == 12
