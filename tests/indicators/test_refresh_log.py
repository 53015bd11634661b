"""The log of the indicators' readings: how long it keeps them (indicators.refresh.prune_refresh_log)."""

import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from indicators import tasks
from indicators.models import Indicator, IndicatorRefresh, IndicatorValue
from indicators.refresh import KEPT_REFRESHES, PRUNE_INDICATORS, prune_refresh_log
from tests.factories import IndicatorFactory, IndicatorValueFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]

NOW = datetime.datetime(2026, 6, 1, 12, tzinfo=datetime.UTC)


def _readings(indicator: Indicator, *days_ago: int) -> list[IndicatorRefresh]:
    return [
        IndicatorRefresh.objects.create(
            indicator=indicator,
            started_at=NOW - datetime.timedelta(days=days),
            duration_ms=12,
            outcome="unchanged",
            trigger="schedule",
        )
        for days in days_ago
    ]


def _days_ago(indicator: Indicator) -> list[int]:
    return sorted((NOW - started).days for started in indicator.refreshes.values_list("started_at", flat=True))


def test_readings_older_than_the_retention_go_but_each_indicator_keeps_its_latest(settings) -> None:
    settings.REFRESH_LOG_RETENTION_DAYS = 90
    daily = IndicatorFactory()
    # Read every day for 200 days: what is older than 90 days goes (days 91 to 199).
    _readings(daily, *range(200))
    yearly = IndicatorFactory()
    # Read once a year: its 10 latest readings stay, however old; the 11th goes.
    _readings(yearly, *(365 * years for years in range(1, KEPT_REFRESHES + 2)))
    recent = IndicatorFactory()
    _readings(recent, 1, 2, 89)

    assert prune_refresh_log(now=NOW) == 109 + 1

    assert _days_ago(daily) == list(range(91))
    assert _days_ago(yearly) == [365 * years for years in range(1, KEPT_REFRESHES + 1)]
    assert _days_ago(recent) == [1, 2, 89]


def test_a_reading_exactly_at_the_limit_stays(settings) -> None:
    settings.REFRESH_LOG_RETENTION_DAYS = 30
    indicator = IndicatorFactory()
    _readings(indicator, *range(KEPT_REFRESHES), 30, 31)

    assert prune_refresh_log(now=NOW) == 1
    assert _days_ago(indicator)[-1] == 30


def test_the_values_read_and_the_indicators_stay() -> None:
    indicator = IndicatorFactory()
    value = IndicatorValueFactory(indicator=indicator, date=(NOW - datetime.timedelta(days=400)).date())
    _readings(indicator, *range(400, 400 + KEPT_REFRESHES + 5))

    assert prune_refresh_log(now=NOW) == 5
    assert IndicatorValue.objects.get() == value
    assert Indicator.objects.get() == indicator


def test_indicators_far_apart_are_pruned_chunk_by_chunk(settings, django_assert_num_queries) -> None:
    """Each DELETE covers PRUNE_INDICATORS identifiers: indicators whose identifiers lie in different chunks, and
    a chunk with no indicator between them, are all pruned; no reading is loaded to be deleted."""
    settings.REFRESH_LOG_RETENTION_DAYS = 1
    first = IndicatorFactory()
    far = IndicatorFactory(pk=first.pk + 2 * PRUNE_INDICATORS + 5)
    for indicator in (first, far):
        _readings(indicator, *range(2, KEPT_REFRESHES + 5))

    # The bounds, then one DELETE for each of the three chunks.
    with django_assert_num_queries(4) as queries:
        assert prune_refresh_log(now=NOW) == 2 * 3
    assert [query["sql"].split()[0] for query in queries.captured_queries] == ["SELECT", *["DELETE"] * 3]
    assert _days_ago(first) == _days_ago(far) == list(range(2, KEPT_REFRESHES + 2))


def test_an_empty_log_and_a_log_within_the_retention_delete_nothing() -> None:
    assert prune_refresh_log(now=NOW) == 0
    _readings(IndicatorFactory(), *range(KEPT_REFRESHES + 20))
    assert prune_refresh_log(now=NOW) == 0
    assert IndicatorRefresh.objects.count() == KEPT_REFRESHES + 20


def test_the_daily_task_prunes_with_the_current_time(settings) -> None:
    settings.REFRESH_LOG_RETENTION_DAYS = 90
    indicator = IndicatorFactory()
    now = timezone.now()
    for days in range(KEPT_REFRESHES + 3):
        IndicatorRefresh.objects.create(
            indicator=indicator,
            started_at=now - datetime.timedelta(days=100 + days),
            duration_ms=1,
            outcome="unchanged",
            trigger="schedule",
        )

    assert tasks.prune_refreshes() == 3
    assert indicator.refreshes.count() == KEPT_REFRESHES


def test_beat_runs_the_pruning_once_a_day() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["prune-refresh-log"]
    assert entry == {"task": "indicators.tasks.prune_refreshes", "schedule": 24 * 3600}
    assert entry["task"] == tasks.prune_refreshes.name


def test_a_retention_under_a_day_is_refused_at_start(tmp_path) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/"),
        "ENV_FILE": str(empty),
        "DEBUG": "true",
        "REFRESH_LOG_RETENTION_DAYS": "0",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=environment | {"DJANGO_SETTINGS_MODULE": "opengov.settings"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "REFRESH_LOG_RETENTION_DAYS must be 1 or more, not 0." in result.stderr
