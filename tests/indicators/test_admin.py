"""The indicator's admin: its source checked on save, tested once, refreshed on demand, its outcomes shown."""

import datetime
from collections.abc import Iterator

import pytest
from django.urls import reverse
from django.utils import timezone

from indicators.models import Indicator, IndicatorRefresh, IndicatorValue
from opengov.celery import app
from tests.factories import (
    CarrierFactory,
    CommitmentFactory,
    IndicatorFactory,
    IndicatorValueFactory,
    MembershipFactory,
    UserFactory,
    json_indicator,
)
from tests.indicators.source_server import Route

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_process_tasks() -> Iterator[None]:
    """Tasks run in this process, as without REDIS_URL, even where the suite runs with Redis (CI)."""
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = saved


def _form(commitment_pk: int, **source) -> dict:
    return {
        "commitment": commitment_pk,
        "name": "Jeux de données publiés",
        "unit": "jeux",
        "is_public": "on",
        "sources": "[]",
        "baseline_value": "0",
        "target_value": "100",
        "direction": "increase",
        "minimum_value": "0",
        "source_row_rule": "last",
        "refresh_interval": "1 00:00:00",
        "values-TOTAL_FORMS": "0",
        "values-INITIAL_FORMS": "0",
        **source,
    }


@pytest.mark.parametrize(
    ("source", "field", "words"),
    [
        (
            {"source_format": "json", "source_url": "http://10.0.0.7/total.json", "source_selector": "total"},
            "source_url",
            "adresse privée",
        ),
        (
            {"source_format": "json", "source_url": "http://169.254.169.254/latest/", "source_selector": "total"},
            "source_url",
            "lien local",
        ),
        (
            {"source_format": "json", "source_url": "http://127.0.0.1:1/x.json", "source_selector": "data..total"},
            "source_selector",
            "data..total",
        ),
        (
            {"source_format": "csv", "source_url": "http://127.0.0.1:1/x.csv", "source_selector": ""},
            "source_selector",
            "colonne",
        ),
        (
            {
                "source_format": "csv",
                "source_url": "http://127.0.0.1:1/x.csv",
                "source_selector": "jeux",
                "source_row_rule": "match",
            },
            "source_match_column",
            "colonne",
        ),
        (
            {"source_format": "computed", "source_selector": "questions_everywhere"},
            "source_selector",
            "milestones_done_share",
        ),
    ],
)
def test_a_bad_source_is_refused_on_save_with_a_sentence_beside_its_field(
    superuser_client, settings, source, field, words
) -> None:
    settings.INDICATOR_SOURCES_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    commitment = CommitmentFactory()
    response = superuser_client.post(reverse("admin:indicators_indicator_add"), _form(commitment.pk, **source))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors, errors
    assert words in " ".join(errors[field]), errors
    assert not Indicator.objects.exists()


def test_a_good_source_is_saved(superuser_client, source_server) -> None:
    commitment = CommitmentFactory()
    url = source_server.set("/count.json", Route(body=b'{"data": {"total": 3}}'))
    form = _form(commitment.pk, source_format="json", source_url=url, source_selector="data.total")
    response = superuser_client.post(reverse("admin:indicators_indicator_add"), form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Indicator.objects.get().source_url == url
    # Saving checks the source; it does not read it.
    assert source_server.hits == {}


def test_testing_the_source_shows_the_value_and_records_nothing(superuser_client, source_server) -> None:
    indicator = json_indicator(source_server.set("/count.json", Route(body=b'{"data": {"total": 1250}}')))
    url = reverse("admin:indicators_indicator_test_source", args=[indicator.pk])
    assert superuser_client.get(url).status_code == 405
    response = superuser_client.post(url)
    assert response.status_code == 200
    assert "<strong>1250</strong>" in response.content.decode()
    assert not IndicatorValue.objects.exists()
    assert not IndicatorRefresh.objects.exists()

    source_server.set("/count.json", Route(body=b'{"data": {"total": -4}}'))
    page = superuser_client.post(url).content.decode()
    assert "plus basse valeur possible" in page

    source_server.set("/count.json", Route(status=500, body=b"{}"))
    page = superuser_client.post(url).content.decode()
    assert "HTTP 500" in page
    assert not IndicatorValue.objects.exists()


def test_refresh_now_runs_in_process_without_redis_and_the_page_shows_the_outcome(
    superuser_client, source_server, django_capture_on_commit_callbacks, in_process_tasks
) -> None:
    indicator = json_indicator(source_server.set("/count.json", Route(body=b'{"data": {"total": 9}}')))
    change = reverse("admin:indicators_indicator_change", args=[indicator.pk])
    # Queued once the request's transaction commits, as with a broker; without one it runs at once.
    with django_capture_on_commit_callbacks(execute=True):
        response = superuser_client.post(
            reverse("admin:indicators_indicator_refresh_now", args=[indicator.pk]), follow=True
        )
    assert response.redirect_chain[-1][0] == change
    assert IndicatorValue.objects.get(indicator=indicator).value == 9
    page = superuser_client.get(change).content.decode()
    assert "Nouvelle valeur : 9." in page  # the latest refreshes, on the indicator's page


def test_the_list_action_queues_automatic_indicators_and_skips_manual_ones(
    superuser_client, source_server, django_capture_on_commit_callbacks, in_process_tasks
) -> None:
    automatic = json_indicator(source_server.set("/count.json", Route(body=b'{"data": {"total": 9}}')))
    manual = IndicatorFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = superuser_client.post(
            reverse("admin:indicators_indicator_changelist"),
            {"action": "refresh_now", "_selected_action": [automatic.pk, manual.pk]},
            follow=True,
        )
    shown = [str(m) for m in response.context["messages"]]
    assert len(shown) == 2, shown
    assert IndicatorRefresh.objects.get().indicator == automatic


def test_only_those_who_may_change_an_indicator_can_test_or_refresh_it(client, source_server) -> None:
    indicator = json_indicator(source_server.set("/c.json", Route(body=b"{}")))
    other_editor = MembershipFactory(user__is_staff=True).user
    for name in ("test_source", "refresh_now"):
        url = reverse(f"admin:indicators_indicator_{name}", args=[indicator.pk])
        assert client.post(url).status_code == 302  # to the login page
        client.force_login(UserFactory(is_staff=True))  # staff without a role: not in the workspace
        assert client.post(url).status_code == 302
        client.force_login(other_editor)  # an editor of an administration that does not carry it
        assert client.post(url).status_code == 404
        client.logout()
    assert source_server.hits == {}
    assert not IndicatorRefresh.objects.exists()


# --- The values' list by year ----------------------------------------------------------------------------------

VALUES = reverse("admin:indicators_indicatorvalue_changelist")


def _years_offered(response) -> list[str]:
    (spec,) = [spec for spec in response.context["cl"].filter_specs if spec.lookup_kwarg == "date__year"]
    return [str(choice["display"]) for choice in spec.choices(response.context["cl"])]


def test_the_values_are_listed_by_year_from_the_first_to_the_last_the_latest_first(superuser_client) -> None:
    indicator = IndicatorFactory()
    early, late = (IndicatorValueFactory(indicator=indicator, date=datetime.date(year, 3, 1)) for year in (2019, 2022))

    response = superuser_client.get(VALUES)
    chosen = superuser_client.get(VALUES, {"date__year": "2019"})

    # Every year between the bounds, 2020 and 2021 without a value among them: two index lookups, not a scan.
    assert _years_offered(response) == ["Toutes les années", "2022", "2021", "2020", "2019"]
    assert [value.pk for value in response.context["cl"].result_list] == [late.pk, early.pk]
    assert [value.pk for value in chosen.context["cl"].result_list] == [early.pk]
    assert _years_offered(superuser_client.get(VALUES, {"date__year": "2019", "_facets": "1"}))[1:] == [
        "2022 (1)",
        "2021 (0)",
        "2020 (0)",
        "2019 (1)",
    ]


def test_a_year_that_is_not_a_number_is_the_lists_own_notice_not_an_error(superuser_client) -> None:
    IndicatorValueFactory()

    response = superuser_client.get(VALUES, {"date__year": "deux-mille"})

    # The admin's answer to a filter it cannot apply: the list again, flagged, with every value.
    assert response.status_code == 302
    assert response.headers["Location"].endswith("?e=1")


def test_an_editor_is_offered_the_years_of_their_own_values_and_plans_only(client) -> None:
    editor = MembershipFactory(user__is_staff=True)
    # Two of their commitments, in two plans (a filter of one choice is not shown), each with a value.
    own = [CarrierFactory(administration=editor.administration).commitment for _ in range(2)]
    for commitment, year in zip(own, (2021, 2023), strict=True):
        IndicatorValueFactory(indicator=IndicatorFactory(commitment=commitment), date=datetime.date(year, 6, 1))
    other = IndicatorValueFactory(date=datetime.date(2015, 6, 1))
    client.force_login(editor.user)

    response = client.get(VALUES)

    assert _years_offered(response) == ["Toutes les années", "2023", "2022", "2021"]
    offered = {
        str(choice["display"])
        for spec in response.context["cl"].filter_specs
        for choice in spec.choices(response.context["cl"])
    }
    assert {str(commitment.plan) for commitment in own} <= offered
    assert str(other.indicator.commitment.plan) not in offered


# --- The log of readings by date ------------------------------------------------------------------------------

REFRESHES = reverse("admin:indicators_indicatorrefresh_changelist")


def _reading(indicator: Indicator, days_ago: int) -> IndicatorRefresh:
    return IndicatorRefresh.objects.create(
        indicator=indicator,
        started_at=timezone.now() - datetime.timedelta(days=days_ago),
        duration_ms=5,
        outcome="unchanged",
        trigger="schedule",
    )


def _date_choices(response) -> list[dict]:
    (spec,) = [spec for spec in response.context["cl"].filter_specs if spec.field_path == "started_at"]
    return list(spec.choices(response.context["cl"]))


def test_the_log_of_readings_is_filtered_by_a_range_of_dates_latest_first(superuser_client) -> None:
    indicator = IndicatorFactory()
    today, last_week, last_year = (_reading(indicator, days) for days in (0, 3, 400))

    response = superuser_client.get(REFRESHES)
    offered = [str(choice["display"]) for choice in _date_choices(response)]
    recent = superuser_client.get(REFRESHES + _date_choices(response)[2]["query_string"])

    # Ranges of dates, not the years and months of every reading (a DISTINCT over the whole log).
    assert not response.context["cl"].date_hierarchy
    assert offered == ["Toutes les dates", "Aujourd\u2019hui", "Les 7 derniers jours", "Ce mois-ci", "Cette année"]
    assert [reading.pk for reading in response.context["cl"].result_list] == [today.pk, last_week.pk, last_year.pk]
    assert [reading.pk for reading in recent.context["cl"].result_list] == [today.pk, last_week.pk]


def test_an_editor_reads_the_log_of_their_own_indicators_only(client) -> None:
    editor = MembershipFactory(user__is_staff=True)
    own = IndicatorFactory(commitment=CarrierFactory(administration=editor.administration).commitment)
    mine, _other = _reading(own, 1), _reading(IndicatorFactory(), 1)
    client.force_login(editor.user)

    response = client.get(REFRESHES)
    past_week = client.get(REFRESHES + _date_choices(response)[2]["query_string"])

    assert [reading.pk for reading in response.context["cl"].result_list] == [mine.pk]
    assert [reading.pk for reading in past_week.context["cl"].result_list] == [mine.pk]
