"""Whole answers for anonymous readers (opengov/page_cache.py): served again without a query, and never once
the data they show has changed."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIRequest
from django.core.signals import request_finished, request_started
from django.db import OperationalError, close_old_connections
from django.test import Client
from django.utils import timezone

import opengov.page_cache
from commitments.models import Commitment
from forums.models import ContributionState
from forums.services import erase_contributor
from indicators.services import record_value
from opengov.page_cache import CACHE_HEADER, KeptAnswers, data_changed, data_version
from opengov.wsgi import application
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


def test_a_stored_answer_still_gets_its_304_with_the_security_headers(client: Client, commitment: Commitment) -> None:
    first = client.get(commitment.get_absolute_url())
    not_modified = client.get(commitment.get_absolute_url(), HTTP_IF_NONE_MATCH=first["ETag"])

    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified[CACHE_HEADER] == "hit"
    assert not_modified["ETag"] == first["ETag"]
    # A hit skips the middleware that set them when the page was rendered; they were stored with it.
    for name in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"):
        assert not_modified[name] == first[name], name
    assert not_modified["X-Request-ID"] != first["X-Request-ID"]
    assert "Content-Type" not in not_modified


def test_a_head_request_gets_the_stored_headers_without_the_body_and_stores_nothing(
    client: Client, commitment: Commitment
) -> None:
    url = commitment.get_absolute_url()
    head_first = client.head(url)
    page = client.get(url)
    head_hit = client.head(url)

    # The first HEAD lost its body on its way out: nothing was stored, so the GET after it renders the page.
    assert head_first.content == b"" and CACHE_HEADER not in head_first
    assert page[CACHE_HEADER] == "miss" and len(page.content) > 1000
    assert head_hit[CACHE_HEADER] == "hit" and head_hit.content == b""
    assert head_hit["Content-Length"] == str(len(page.content))
    assert head_hit["ETag"] == page["ETag"]


def test_an_unknown_host_is_left_to_the_host_check_and_the_probes(client: Client, reference_data: None) -> None:
    assert client.get("/", HTTP_HOST="10.0.0.7").status_code == 400
    assert client.get("/healthz", HTTP_HOST="10.0.0.7").status_code == 200


def test_a_change_of_the_security_headers_renders_the_pages_again(
    client: Client, commitment: Commitment, settings: object
) -> None:
    url = commitment.get_absolute_url()
    client.get(url)
    settings.X_FRAME_OPTIONS = "SAMEORIGIN"

    page = client.get(url)

    assert page[CACHE_HEADER] == "miss" and page["X-Frame-Options"] == "SAMEORIGIN"


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


def _environ(method: str, path: str, **environ: str) -> dict[str, object]:
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
        **environ,
    }


def _wsgi(method: str, path: str, **environ: str) -> tuple[str, dict[str, str], bytes]:
    """A request to the site's WSGI application, as gunicorn hands it: status, headers, body."""
    request = _environ(method, path, **environ)
    answer: dict[str, object] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> None:
        answer.update(status=status, headers=dict(headers))

    # As Django's test client does: the handler would close the test's database connection, and its
    # transaction with it, at the start and the end of the request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        chunks = application(request, start_response)
        body = b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return answer["status"], answer["headers"], body


@pytest.fixture
def redis_cache(settings: object) -> None:
    if settings.CACHES["default"]["BACKEND"].endswith("LocMemCache"):
        pytest.skip("the shortcut is for a shared cache: with local memory the middleware answers (a query)")


def test_a_stored_answer_goes_out_before_django_runs(
    client: Client,
    commitment: Commitment,
    redis_cache: None,
    django_assert_num_queries: object,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = commitment.get_absolute_url()
    rendered = client.get(url)
    caplog.clear()

    with django_assert_num_queries(0), caplog.at_level("INFO", logger="opengov.request"):
        status, headers, body = _wsgi("GET", url, HTTP_X_REQUEST_ID="proxy-id-1234")

    assert status == "200 OK" and body == rendered.content
    assert headers[CACHE_HEADER] == "hit"
    # Every header the middleware set when the page was rendered, but the request's own id.
    for name in ("Content-Type", "Content-Security-Policy", "X-Frame-Options", "ETag", "Last-Modified"):
        assert headers[name] == rendered[name], name
    assert headers["X-Request-ID"] == "proxy-id-1234"
    [line] = [record for record in caplog.records if record.name == "opengov.request"]
    assert (line.status, line.path, line.request_id) == (200, url, "proxy-id-1234")


def test_the_shortcut_never_serves_an_answer_the_data_has_left_behind(
    client: Client, commitment: Commitment, redis_cache: None, django_capture_on_commit_callbacks: object
) -> None:
    indicator = IndicatorFactory(commitment=commitment, name="Jeux de données ouverts", maximum_value=None)
    client.get(indicator.get_absolute_url())
    assert _wsgi("GET", indicator.get_absolute_url())[1][CACHE_HEADER] == "hit"

    with django_capture_on_commit_callbacks(execute=True):
        record_value(indicator=indicator, date=timezone.localdate(), value=Decimal(4321), by=None)

    _, headers, body = _wsgi("GET", indicator.get_absolute_url())
    assert headers[CACHE_HEADER] == "miss" and "4\xa0321" in body.decode()
    assert _wsgi("GET", indicator.get_absolute_url())[1][CACHE_HEADER] == "hit"


def test_a_kept_answer_needs_only_the_data_version_from_redis(
    client: Client, commitment: Commitment, redis_cache: None
) -> None:
    url = commitment.get_absolute_url()
    rendered = client.get(url).content
    assert _wsgi("GET", url)[1][CACHE_HEADER] == "hit"  # read from Redis, and now kept by this process
    cache.delete(opengov.page_cache._key(WSGIRequest(_environ("GET", url))))

    kept = _wsgi("GET", url)
    data_changed()
    renewed = _wsgi("GET", url)

    # Gone from Redis, its version still current: the process's own copy goes out.
    assert kept[1][CACHE_HEADER] == "hit" and kept[2] == rendered
    # Another version: never the kept copy, whatever process renewed it.
    assert renewed[1][CACHE_HEADER] == "miss" and renewed[2] == rendered


def test_a_process_keeps_the_answers_it_served_last_within_its_budget() -> None:
    kept = KeptAnswers(budget=10)
    kept.put("a", ("v1", b"aaaa", []))
    kept.put("b", ("v1", b"bbbb", []))
    kept.get("a")  # served again: now the most recent
    kept.put("c", ("v1", b"cccc", []))  # 12 bytes: the least recently served leaves
    kept.put("huge", ("v1", b"x" * 11, []))  # more than the whole budget: never kept
    kept.put("a", ("v2", b"AA", []))  # a newer answer replaces the older

    assert kept.get("b") is None and kept.get("huge") is None
    assert kept.get("a") == ("v2", b"AA", []) and kept.get("c") == ("v1", b"cccc", [])


def test_what_the_shortcut_leaves_to_django(client: Client, commitment: Commitment, redis_cache: None) -> None:
    url = commitment.get_absolute_url()
    etag = client.get(url)["ETag"]
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    session = client.cookies["sessionid"].value

    signed_in = _wsgi("GET", url, HTTP_COOKIE=f"sessionid={session}")
    conditional = _wsgi("GET", url, HTTP_IF_NONE_MATCH=etag)
    head = _wsgi("HEAD", url)
    unknown_host = _wsgi("GET", url, HTTP_HOST="10.0.0.7")

    assert CACHE_HEADER not in signed_in[1] and signed_in[0] == "200 OK"
    assert conditional[0].startswith("304") and "Content-Security-Policy" in conditional[1]
    assert head[0] == "200 OK" and head[2] == b"" and head[1][CACHE_HEADER] == "hit"
    assert unknown_host[0].startswith("400")


def test_without_its_version_the_request_goes_on_uncached(
    client: Client, commitment: Commitment, settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not settings.CACHES["default"]["BACKEND"].endswith("LocMemCache"):
        pytest.skip("with Redis the version is read from Redis, which degrades to a miss (opengov.cache)")

    def database_down() -> None:
        raise OperationalError("connection refused")

    # With local memory the version reads the last change in the database; the probes sit below the cache
    # and must still answer when the database is down (tests/deploy/test_resilience.py).
    monkeypatch.setattr(opengov.page_cache, "last_data_change", database_down)
    page = client.get(commitment.get_absolute_url())

    assert page.status_code == 200 and CACHE_HEADER not in page
