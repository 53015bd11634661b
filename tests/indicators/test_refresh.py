"""Reading indicators from a real local source: what is recorded, what is logged, what is refused."""

import datetime
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from forums.models import Contribution, ContributionKind, ContributionState
from indicators.fetch import SourceError
from indicators.models import Indicator, IndicatorRefresh, IndicatorValue
from indicators.refresh import refresh_indicator
from indicators.sources import CsvRule, parse_number, parse_selector, read_csv, read_json
from tests.factories import (
    AnswerFactory,
    ContributionFactory,
    IndicatorFactory,
    IndicatorValueFactory,
    MilestoneFactory,
    json_indicator,
)
from tests.indicators.source_server import Route

# Messages are matched on their English source text; tests/test_translations.py checks their French.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def _csv_indicator(url: str, column: str, rule: str = "last", **fields) -> Indicator:
    return IndicatorFactory(source_format="csv", source_url=url, source_selector=column, source_row_rule=rule, **fields)


@pytest.mark.parametrize(
    ("selector", "steps"),
    [
        ("data.total", ["data", "total"]),
        ("results[0].value", ["results", 0, "value"]),
        ("results[-1].value", ["results", -1, "value"]),
        ('data["nb.jeux"]', ["data", "nb.jeux"]),
        ("total", ["total"]),
    ],
)
def test_selectors(selector: str, steps: list) -> None:
    assert parse_selector(selector) == steps


@pytest.mark.parametrize("selector", ["", "data..total", ".data", "results[x]", "results[0"])
def test_malformed_selectors_are_refused(selector: str) -> None:
    with pytest.raises(SourceError):
        parse_selector(selector)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("1234", "1234"),
        ("1 234,5", "1234.5"),
        ("1\u202f234,50", "1234.50"),
        ("1.234,5", "1234.5"),
        ("1,234.5", "1234.5"),
        ("-3.25", "-3.25"),
        ("12,5", "12.5"),
        ("1e3", "1E+3"),
    ],
)
def test_numbers_written_in_french_or_english(text: str, number: str) -> None:
    assert parse_number(text, what="x") == Decimal(number)


@pytest.mark.parametrize("text", ["", "douze", "12 jeux", "NaN", "1,2,3", "--1"])
def test_text_that_is_not_a_number(text: str) -> None:
    with pytest.raises(SourceError, match="not a number"):
        parse_number(text, what="the value")


def test_json_paths_that_match_nothing_say_where_they_stop() -> None:
    document = json.dumps({"data": {"total": 5}, "results": []}).encode()
    assert read_json(document, "data.total") == 5
    with pytest.raises(SourceError, match="has no “count”"):
        read_json(document, "data.count")
    with pytest.raises(SourceError, match="0 elements"):
        read_json(document, "results[0].value")
    with pytest.raises(SourceError, match="not a number"):
        read_json(b'{"data": {"total": "beaucoup"}}', "data.total")
    with pytest.raises(SourceError, match="not a number"):
        read_json(b'{"data": {"total": true}}', "data.total")
    with pytest.raises(SourceError, match="not valid JSON"):
        read_json(b"<html>", "data.total")


def test_csv_rules() -> None:
    body = "région;jeux;année\nBretagne;12;2019\nOccitanie;1 500,5;2020\n".encode()
    assert read_csv(body, None, CsvRule(column="jeux", row_rule="last")) == Decimal("1500.5")
    assert read_csv(body, None, CsvRule(column="jeux", row_rule="sum")) == Decimal("1512.5")
    rule = CsvRule(column="jeux", row_rule="match", match_column="région", match_value="Bretagne")
    assert read_csv(body, None, rule) == 12
    assert read_csv("région;jeux\nÎle-de-France;3\n".encode("cp1252"), None, CsvRule("jeux", "last")) == 3
    with pytest.raises(SourceError, match="no column “total”; its columns are: région, jeux, année"):
        read_csv(body, None, CsvRule(column="total", row_rule="last"))
    with pytest.raises(SourceError, match="No row"):
        read_csv(body, None, CsvRule(column="jeux", row_rule="match", match_column="région", match_value="Corse"))
    with pytest.raises(SourceError, match="line 3"):
        read_csv(b"a,b\n1,2\nx,3\n", None, CsvRule(column="a", row_rule="sum"))
    with pytest.raises(SourceError, match="no data row"):
        read_csv(b"a,b\n", None, CsvRule(column="a", row_rule="last"))


def test_a_new_value_then_unchanged(source_server) -> None:
    url = source_server.set("/count.json", Route(body=b'{"data": {"total": 1250}}'))
    indicator = json_indicator(url)
    first = refresh_indicator(indicator.pk, trigger="command")
    assert (first.outcome, first.value) == ("new_value", 1250)
    value = IndicatorValue.objects.get(indicator=indicator)
    assert (value.value, value.origin, value.date) == (1250, "automatic", timezone.localdate())
    second = refresh_indicator(indicator.pk, trigger="command")
    assert second.outcome == "unchanged"
    assert IndicatorValue.objects.filter(indicator=indicator).count() == 1
    indicator.refresh_from_db()
    assert indicator.last_refresh_outcome == "unchanged"
    assert indicator.last_read_at is not None
    assert list(indicator.refreshes.values_list("outcome", flat=True)) == ["unchanged", "new_value"]
    assert all(r.duration_ms >= 0 for r in indicator.refreshes.all())
    # The commitment's progress follows the value read (baseline 0, target 100 → clamped).
    indicator.commitment.refresh_from_db()
    assert indicator.commitment.progress == 100


def test_a_change_on_a_later_day_adds_a_value_and_the_same_day_corrects_it(source_server) -> None:
    url = source_server.set("/count.json", Route(body=b'{"data": {"total": 20}}'))
    indicator = json_indicator(url)
    IndicatorValueFactory(indicator=indicator, date=datetime.date(2020, 1, 1), value=10, origin="automatic")
    assert refresh_indicator(indicator.pk, trigger="command").outcome == "new_value"
    source_server.set("/count.json", Route(body=b'{"data": {"total": 21}}'))
    assert refresh_indicator(indicator.pk, trigger="command").outcome == "new_value"
    values = list(IndicatorValue.objects.filter(indicator=indicator).order_by("date").values_list("value", flat=True))
    assert values == [10, 21]
    today = IndicatorValue.objects.get(indicator=indicator, date=timezone.localdate())
    assert today.history.count() == 2
    assert "20" in today.note and "21" in today.note


def test_a_value_entered_by_a_person_today_is_never_overwritten(source_server) -> None:
    url = source_server.set("/count.json", Route(body=b'{"data": {"total": 99}}'))
    indicator = json_indicator(url)
    IndicatorValueFactory(indicator=indicator, date=timezone.localdate(), value=42, origin="manual")
    refresh = refresh_indicator(indicator.pk, trigger="command")
    assert refresh.outcome == "unchanged"
    assert IndicatorValue.objects.get(indicator=indicator).value == 42


@pytest.mark.parametrize(
    ("route", "fields", "words"),
    [
        (Route(body=b'{"data": {"total": "n/a"}}'), {}, "not a number"),
        (Route(body=b'{"data": {}}'), {}, "has no “total”"),
        (Route(body=b"\x00\x01garbage"), {}, "not valid JSON"),
        (Route(body=b'{"data": {"total": -5}}'), {}, "below 0"),
        (Route(body=b'{"data": {"total": 150}}'), {"maximum_value": 100}, "above 100"),
        (Route(status=404, body=b"{}"), {}, "HTTP 404"),
    ],
)
def test_bad_sources_record_an_error_and_nothing_else(source_server, route, fields, words) -> None:
    url = source_server.set("/bad.json", route)
    indicator = json_indicator(url, name="Jeux de données publiés", **fields)
    IndicatorValueFactory(indicator=indicator, date=datetime.date(2020, 1, 1), value=10)
    refresh = refresh_indicator(indicator.pk, trigger="command", may_retry=True)
    assert refresh.outcome == "error"
    assert not refresh.will_retry
    assert words in refresh.message
    # The message names the indicator and the source.
    assert "Jeux de données publiés" in refresh.message and url in refresh.message
    assert list(IndicatorValue.objects.filter(indicator=indicator).values_list("value", flat=True)) == [10]
    indicator.refresh_from_db()
    assert (indicator.last_refresh_outcome, indicator.consecutive_failures) == ("error", 1)
    assert indicator.last_read_at is None


def test_a_csv_with_a_missing_column(source_server) -> None:
    url = source_server.set("/data.csv", Route(body=b"annee,jeux\n2020,3\n", content_type="text/csv"))
    indicator = _csv_indicator(url, "total")
    refresh = refresh_indicator(indicator.pk, trigger="command")
    assert refresh.outcome == "error"
    assert "no column “total”" in refresh.message
    assert not IndicatorValue.objects.filter(indicator=indicator).exists()


def test_a_csv_source_with_a_match_rule(source_server) -> None:
    body = "ministère,jeux\nDINUM,40\nMinistère de la Culture,12\n".encode()
    url = source_server.set("/data.csv", Route(body=body, content_type="text/csv; charset=utf-8"))
    indicator = _csv_indicator(
        url, "jeux", rule="match", source_match_column="ministère", source_match_value="Ministère de la Culture"
    )
    assert refresh_indicator(indicator.pk, trigger="command").value == 12


def test_a_transient_failure_is_marked_for_retry_and_does_not_count_as_failing(source_server) -> None:
    url = source_server.set("/flaky.json", Route(status=503, body=b"{}"))
    indicator = json_indicator(url)
    refresh = refresh_indicator(indicator.pk, trigger="schedule", may_retry=True)
    assert (refresh.outcome, refresh.will_retry) == ("error", True)
    indicator.refresh_from_db()
    assert indicator.consecutive_failures == 0


def test_an_indicator_that_keeps_failing_is_flagged_and_recovers(source_server) -> None:
    url = source_server.set("/down.json", Route(status=404, body=b"{}"))
    indicator = json_indicator(url)
    for _attempt in range(3):
        refresh_indicator(indicator.pk, trigger="schedule")
    assert Indicator.objects.failing().get() == indicator
    source_server.set("/down.json", Route(body=b'{"data": {"total": 3}}'))
    refresh_indicator(indicator.pk, trigger="schedule")
    assert not Indicator.objects.failing().exists()


def test_computed_sources() -> None:
    indicator = IndicatorFactory(source_format="computed", source_selector="milestones_done_share", target_value=100)
    MilestoneFactory(commitment=indicator.commitment, completed_on=datetime.date(2019, 1, 1))
    MilestoneFactory(commitment=indicator.commitment)
    MilestoneFactory(commitment=indicator.commitment)
    assert refresh_indicator(indicator.pk, trigger="command").value == Decimal("33.33")
    count = IndicatorFactory(
        commitment=indicator.commitment, source_format="computed", source_selector="milestones_done"
    )
    assert refresh_indicator(count.pk, trigger="command").value == 1


def test_the_number_of_questions_answered_counts_published_answered_questions_of_the_commitment() -> None:
    indicator = IndicatorFactory(source_format="computed", source_selector="questions_answered")
    commitment = indicator.commitment
    AnswerFactory(contribution=ContributionFactory(commitment=commitment))
    AnswerFactory(contribution=ContributionFactory(commitment=commitment))
    ContributionFactory(commitment=commitment)  # not answered yet
    AnswerFactory(contribution=ContributionFactory(commitment=commitment, kind=ContributionKind.IDEA))
    AnswerFactory(contribution=ContributionFactory())  # another commitment's
    withdrawn = AnswerFactory(contribution=ContributionFactory(commitment=commitment)).contribution
    Contribution.objects.filter(pk=withdrawn.pk).update(state=ContributionState.REJECTED, rejection_reason="Retirée.")
    assert refresh_indicator(indicator.pk, trigger="command").value == 2
    AnswerFactory(contribution=ContributionFactory(commitment=commitment))
    assert refresh_indicator(indicator.pk, trigger="command").value == 3


def test_the_command_refreshes_due_indicators_and_reports_errors(source_server) -> None:
    good = json_indicator(source_server.set("/good.json", Route(body=b'{"data": {"total": 8}}')))
    bad = json_indicator(source_server.set("/bad.json", Route(body=b'{"data": {}}')))
    IndicatorFactory(source_format="manual")
    recent = json_indicator(source_server.url("/good.json"), last_refresh_at=timezone.now())
    with pytest.raises(CommandError, match="1"):
        call_command("refresh_indicators")
    assert IndicatorValue.objects.get(indicator=good).value == 8
    assert not IndicatorValue.objects.filter(indicator=bad).exists()
    assert not IndicatorRefresh.objects.filter(indicator=recent).exists()
    call_command("refresh_indicators", "--id", str(recent.pk))
    assert IndicatorRefresh.objects.filter(indicator=recent).count() == 1
    with pytest.raises(CommandError, match="999999"):
        call_command("refresh_indicators", "--id", "999999")


def test_an_indicator_waiting_in_the_queue_is_not_queued_again_until_presumed_lost() -> None:
    now = timezone.now()
    queued = json_indicator("https://example.org/a.json", refresh_queued_at=now - datetime.timedelta(minutes=5))
    lost = json_indicator("https://example.org/b.json", refresh_queued_at=now - datetime.timedelta(hours=1))
    ran_since = json_indicator(
        "https://example.org/c.json",
        refresh_queued_at=now - datetime.timedelta(days=2),
        last_refresh_at=now - datetime.timedelta(days=2) + datetime.timedelta(seconds=3),
    )
    due = set(Indicator.objects.due(now))
    assert queued not in due
    assert lost in due
    assert ran_since in due


def test_a_reading_is_rounded_as_stored_so_that_it_reads_unchanged_next_time(source_server) -> None:
    url = source_server.set("/precise.json", Route(body=b'{"data": {"total": 12.345678}}'))
    indicator = json_indicator(url)
    assert refresh_indicator(indicator.pk, trigger="command").value == Decimal("12.3457")
    assert refresh_indicator(indicator.pk, trigger="command").outcome == "unchanged"
    source_server.set("/precise.json", Route(body=b'{"data": {"total": 1e20}}'))
    refresh = refresh_indicator(indicator.pk, trigger="command")
    assert refresh.outcome == "error"
    assert "16" in refresh.message


def test_a_fault_of_ours_is_logged_and_recorded_as_an_error(source_server, monkeypatch, caplog) -> None:
    url = source_server.set("/count.json", Route(body=b'{"data": {"total": 1}}'))
    indicator = json_indicator(url)

    def broken(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr("indicators.refresh.read_source", broken)
    refresh = refresh_indicator(indicator.pk, trigger="command")
    assert refresh.outcome == "error"
    assert "unexpected error" in refresh.message
    assert "RuntimeError: bug" in caplog.text
    assert not IndicatorValue.objects.filter(indicator=indicator).exists()
