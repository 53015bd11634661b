"""Whole answers for anonymous readers (opengov/page_cache.py): served again without a query, and never once
the data they show has changed."""

import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from commitments.models import Commitment
from forums.models import ContributionState
from forums.services import erase_contributor
from indicators.services import record_value
from opengov.page_cache import CACHE_HEADER, data_version
from tests.factories import ContributionFactory, IndicatorFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def page_cache(settings: object) -> None:
    settings.PAGE_CACHE_ENABLED = True
    cache.clear()


@pytest.fixture
def commitment(reference_data: None) -> Commitment:
    return Commitment.objects.get(plan__slug="2018-2020", number=4)


def _queries_of_a_hit(settings: object) -> int:
    # With Redis, the version is in the cache; with local memory, each process reads the last change recorded
    # in the database, which every process shares (one query).
    return 1 if settings.CACHES["default"]["BACKEND"].endswith("LocMemCache") else 0


def test_a_second_reader_gets_the_stored_page_without_rendering_it(
    client: Client, commitment: Commitment, settings: object, django_assert_num_queries: object
) -> None:
    first = client.get(commitment.get_absolute_url())
    with django_assert_num_queries(_queries_of_a_hit(settings)):
        second = client.get(commitment.get_absolute_url())

    assert (first[CACHE_HEADER], second[CACHE_HEADER]) == ("miss", "hit")
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    assert second["Cache-Control"] == first["Cache-Control"]
    assert second["Last-Modified"] == first["Last-Modified"]
    # What the outer layers add is added to a stored answer too: its own request id, the policy, the ETag.
    assert second["X-Request-ID"] != first["X-Request-ID"]
    assert "script-src 'self'" in second["Content-Security-Policy"]
    assert second["ETag"] == first["ETag"]
    assert client.get(commitment.get_absolute_url(), HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_a_recorded_value_is_on_the_next_page_and_in_the_next_api_answer(
    client: Client, commitment: Commitment, django_capture_on_commit_callbacks: object
) -> None:
    indicator = IndicatorFactory(commitment=commitment, name="Jeux de données ouverts", maximum_value=None)
    api = f"/api/v1/indicators/{indicator.pk}/"
    assert client.get(indicator.get_absolute_url())[CACHE_HEADER] == "miss"
    assert client.get(api).json()["latest_value"] is None
    assert client.get(api)[CACHE_HEADER] == "hit"

    with django_capture_on_commit_callbacks(execute=True):
        record_value(
            indicator=indicator,
            date=timezone.localdate() - datetime.timedelta(days=1),
            value=Decimal(4321),
            by=None,
        )

    page = client.get(indicator.get_absolute_url())
    answer = client.get(api)
    # 4 321, with the non-breaking space French figures are written with.
    assert page[CACHE_HEADER] == "miss" and "4\xa0321" in page.content.decode()
    assert answer[CACHE_HEADER] == "miss" and answer.json()["latest_value"] == 4321
    assert client.get(api)[CACHE_HEADER] == "hit"


def test_an_erasure_takes_the_name_off_the_stored_pages(
    client: Client, commitment: Commitment, django_capture_on_commit_callbacks: object
) -> None:
    ContributionFactory(
        commitment=commitment,
        display_name="Camille Exemple",
        email="camille@example.org",
        state=ContributionState.PUBLISHED,
    )
    assert "Camille Exemple" in client.get(commitment.get_absolute_url()).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        erase_contributor(email="camille@example.org")

    again = client.get(commitment.get_absolute_url())
    assert again[CACHE_HEADER] == "miss"
    assert "Camille Exemple" not in again.content.decode()


def test_the_api_keeps_json_and_csv_apart(client: Client, reference_data: None) -> None:
    json_answer = client.get("/api/v1/plans/")
    csv_answer = client.get("/api/v1/plans/", HTTP_ACCEPT="text/csv")
    csv_again = client.get("/api/v1/plans/", HTTP_ACCEPT="text/csv")

    assert json_answer["Content-Type"] == "application/json"
    assert csv_answer[CACHE_HEADER] == "miss" and csv_answer["Content-Type"].startswith("text/csv")
    assert csv_again[CACHE_HEADER] == "hit" and csv_again.content == csv_answer.content


def test_hosts_and_languages_have_their_own_answers(client: Client, commitment: Commitment, settings: object) -> None:
    settings.ALLOWED_HOSTS = ["opengov.example.gouv.fr", "testserver"]
    url = commitment.get_absolute_url()
    french = client.get(url)
    other_host = client.get(url, HTTP_HOST="opengov.example.gouv.fr")
    english = client.get("/en" + url)

    assert [french[CACHE_HEADER], other_host[CACHE_HEADER], english[CACHE_HEADER]] == ["miss"] * 3
    assert english["Content-Language"] == "en"


def test_what_is_personal_or_private_is_never_stored(client: Client, commitment: Commitment) -> None:
    # A signed-in reader: their pages may hold their links (the workspace's "update" button).
    signed_in = Client()
    signed_in.force_login(UserFactory(is_staff=True, is_superuser=True))
    for _ in range(2):
        assert CACHE_HEADER not in signed_in.get(commitment.get_absolute_url())
    # A form page (never cached, sets the CSRF cookie), a page not found, and a write.
    form = f"{commitment.get_absolute_url()}contribuer/"
    for _ in range(2):
        assert CACHE_HEADER not in client.get(form)
        assert CACHE_HEADER not in client.get("/pas-de-page-ici/")
    assert CACHE_HEADER not in client.post(form, {})
    # An API client with a token (refused or not, its answer is its own).
    assert CACHE_HEADER not in client.get("/api/v1/plans/", HTTP_AUTHORIZATION="Token 0123456789abcdef")


def test_a_write_without_signals_still_changes_the_version_with_local_memory(
    commitment: Commitment, settings: object
) -> None:
    """Another process's write never reaches this process's local cache; the history it recorded does."""
    if not settings.CACHES["default"]["BACKEND"].endswith("LocMemCache"):
        pytest.skip("with Redis, every process reads the same version")
    before = data_version()
    history = Commitment.history.model
    # bulk_create sends no signal, as a write from another process would not reach this one's.
    latest = Commitment.history.filter(id=commitment.pk).latest("history_date")
    latest.pk = None
    latest.history_date = timezone.now() + datetime.timedelta(seconds=1)
    history.objects.bulk_create([latest])

    assert data_version() != before
