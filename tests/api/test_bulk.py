import datetime
import gc
import io
import json
import threading
import tracemalloc
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.http import http_date
from rest_framework.test import APIClient

from indicators.models import IndicatorValue
from indicators.services import record_value
from opengov import exports
from opengov.api import PublicViewSet
from tests.factories import IndicatorFactory
from tests.indicators.services import RedisServer, broker, redis_server

__all__ = ["broker", "redis_server"]

URL = "/api/v1/bulk/opengov-donnees.zip"
# The headers the archive had when it was built in one piece in the request (the same as the API's CSV).
CSV_COLUMNS = {
    "plans": (
        "slug,title,title_en,owner,start_year,end_year,published_on,status,consultation_opens_on,"
        "consultation_closes_on,document_url,predecessor,progress,commitment_count,sources,is_synthetic,links.api,"
        "links.site"
    ),
    "axes": "id,plan,plan_is_synthetic,number,title,title_en,title_is_official,progress,commitment_count",
    "administrations": (
        "slug,name,name_is_official,name_en,short_name,kind,website,sources,is_synthetic,links.api,links.site"
    ),
    "commitments": (
        "key,ogp_id,other_ogp_ids,plan,plan_is_synthetic,axis,axis_is_inferred,number,title,title_is_official,title_en,"
        "summary,description,carriers,carriers_note,ogp_values,start_date,end_date,predecessor,completion,progress,"
        "progress_rule,progress_note,is_late,updated_at,updated_by,is_verified,source_note,sources,links.api,links.site"
    ),
    "forums": (
        "id,number,title,date,start_time,end_time,place,theme,organisers,commitments,report_url,registration_url,"
        "is_verified,source_note,sources"
    ),
}


@pytest.fixture(autouse=True)
def exports_dir(settings: object, tmp_path: Path) -> Path:
    settings.EXPORTS_DIR = str(tmp_path / "exports")
    # Links in the archive are built from SITE_URL, in the API from the request: the test client's host.
    settings.SITE_URL = "http://testserver"
    cache.delete(exports.QUEUED_KEY)
    return tmp_path / "exports"


def _download(api: APIClient, **headers: str) -> tuple[object, zipfile.ZipFile]:
    response = api.get(URL, **headers)
    assert response.status_code == 200, response.status_code
    # Reading the whole body closes the response, which queues the rebuild of a stale archive.
    return response, zipfile.ZipFile(io.BytesIO(response.getvalue()))


def _api_list(api: APIClient, name: str) -> list:
    items, url = [], f"/api/v1/{name}/?page_size=500"
    while url:
        page = api.get(url).json()
        items, url = items + page["results"], page["next"]
    return items


def _files(directory: Path) -> set[str]:
    return {path.name for path in directory.iterdir()} - {exports.LOCK_NAME} if directory.exists() else set()


def test_the_archive_holds_what_the_api_lists_give(
    api: APIClient, reference_data: None, in_process_tasks: None
) -> None:
    response, archive = _download(api)

    assert response["Content-Type"] == "application/zip"
    assert 'filename="opengov-donnees.zip"' in response["Content-Disposition"]
    assert archive.namelist() == [f"{name}.{kind}" for name, _ in exports.RESOURCES for kind in ("json", "csv")] + [
        "README.md"
    ]
    for name, _ in exports.RESOURCES:
        listed = _api_list(api, name)
        text = archive.read(f"{name}.json").decode()
        assert json.loads(text) == listed, name
        # Laid out as before the archive was built in chunks: one json.dumps of the whole list.
        assert text == json.dumps(listed, ensure_ascii=False, indent=1), name
        # Within one page, the API's CSV is the archive's, byte for byte: same columns, same cells.
        assert len(listed) < 500
        assert archive.read(f"{name}.csv") == api.get(f"/api/v1/{name}/?format=csv&page_size=500").content, name
    for name, columns in CSV_COLUMNS.items():
        assert archive.read(f"{name}.csv").decode().splitlines()[0] == columns, name
    assert archive.read("commitments.csv").decode().count("\n") == 48  # a header and 47 rows


def test_the_readme_gives_the_counts_the_columns_and_the_extraction_date(
    api: APIClient, reference_data: None, in_process_tasks: None
) -> None:
    response, archive = _download(api)

    readme = archive.read("README.md").decode()
    assert "Licence Ouverte 2.0" in readme
    assert "## commitments.json, commitments.csv (47)\n" in readme
    assert "- `ogp_id`: " in readme and "- `links`: " in readme
    extracted = readme.split("extracted on: ")[1].split("\n")[0]
    assert http_date(datetime.datetime.fromisoformat(extracted).timestamp()) == response["Last-Modified"]


def test_the_archive_is_served_as_a_file_and_answers_conditional_requests(
    api: APIClient, reference_data: None, in_process_tasks: None, exports_dir: Path
) -> None:
    response, _ = _download(api)

    assert response.streaming
    assert int(response["Content-Length"]) == (exports_dir / exports.ARCHIVE_NAME).stat().st_size
    assert "public" in response["Cache-Control"] and response["ETag"]
    by_etag = api.get(URL, HTTP_IF_NONE_MATCH=response["ETag"])
    by_date = api.get(URL, HTTP_IF_MODIFIED_SINCE=response["Last-Modified"])
    assert by_etag.status_code == by_date.status_code == 304
    assert by_etag["ETag"] == response["ETag"]
    assert api.get(URL, HTTP_IF_NONE_MATCH='"another"').status_code == 200


def test_a_recorded_value_makes_the_archive_stale_and_the_rebuild_includes_it(
    api: APIClient, reference_data: None, in_process_tasks: None
) -> None:
    indicator = IndicatorFactory(is_public=True)
    first, _ = _download(api)
    record_value(indicator=indicator, date=datetime.date(2020, 6, 1), value=Decimal("12.5"), by=None)

    # The stale archive is served at once (the rebuild waits for the response to be sent)...
    stale, stale_archive = _download(api)
    assert stale["ETag"] == first["ETag"]
    assert "2020-06-01" not in stale_archive.read("indicator-values.csv").decode()
    # ...and the next download gets the rebuilt one.
    fresh, fresh_archive = _download(api)
    assert fresh["ETag"] != first["ETag"]
    values = json.loads(fresh_archive.read("indicator-values.json"))
    assert [value["value"] for value in values if value["date"] == "2020-06-01"] == [12.5]
    listed = api.get("/api/v1/indicator-values/?format=csv").content.decode()
    assert fresh_archive.read("indicator-values.csv").decode() == listed


def test_an_up_to_date_archive_is_not_rebuilt(reference_data: None) -> None:
    built = exports.build_archive()
    again = exports.build_archive()

    assert again == built
    assert exports.build_archive(force=True).path == built.path


def test_without_an_archive_a_broker_gets_the_build_queued_and_the_reader_a_503(
    api: APIClient, reference_data: None, broker: RedisServer, exports_dir: Path
) -> None:
    response = api.get(URL)

    assert response.status_code == 503 and response["Retry-After"] == "60"
    error = response.json()["error"]
    assert error["code"] == "export_in_preparation" and "préparation" in error["message"]
    assert _files(exports_dir) == set()
    assert redis.Redis.from_url(broker.url).llen("celery") == 1
    # Readers who come meanwhile do not queue it again.
    assert api.get(URL).status_code == 503
    assert redis.Redis.from_url(broker.url).llen("celery") == 1


def test_a_failed_build_leaves_the_previous_archive_and_nothing_half_written(
    reference_data: None, exports_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = exports.build_archive()
    before = (exports_dir / exports.ARCHIVE_NAME).read_bytes()

    class Broken(PublicViewSet):
        def get_queryset(self) -> None:
            raise RuntimeError("the database went away")

    monkeypatch.setattr(exports, "RESOURCES", [*exports.RESOURCES, ("broken", Broken)])
    with pytest.raises(RuntimeError):
        exports.build_archive(force=True)

    assert _files(exports_dir) == {exports.ARCHIVE_NAME}
    assert (exports_dir / exports.ARCHIVE_NAME).read_bytes() == before
    assert exports.open_archive()[1] == built


def test_one_build_at_a_time(api: APIClient, reference_data: None, in_process_tasks: None, exports_dir: Path) -> None:
    exports_dir.mkdir()
    (exports_dir / f"{exports.TEMPORARY_PREFIX}killed.zip").write_bytes(b"half")
    with exports._build_lock(exports_dir) as locked:
        assert locked
        # Another process's build would wait for nothing: it gives up, and writes nothing.
        assert exports.build_archive() is None
        assert api.get(URL).status_code == 503
        assert _files(exports_dir) == {f"{exports.TEMPORARY_PREFIX}killed.zip"}

    # Once the lock is free, a build clears what a killed one left.
    assert exports.build_archive() is not None
    assert _files(exports_dir) == {exports.ARCHIVE_NAME}


def test_the_page_cache_does_not_keep_the_archive(
    api: APIClient, reference_data: None, in_process_tasks: None, settings: object
) -> None:
    settings.PAGE_CACHE_ENABLED = True
    _download(api)

    second, _ = _download(api)

    assert second.streaming and second.get("X-Cache") != "hit"


def test_the_command_builds_the_archive(reference_data: None, exports_dir: Path) -> None:
    output = io.StringIO()
    call_command("build_export", stdout=output)

    assert zipfile.ZipFile(exports_dir / exports.ARCHIVE_NAME).testzip() is None
    assert str(exports_dir / exports.ARCHIVE_NAME) in output.getvalue()


def test_every_list_in_the_archive_has_a_total_order() -> None:
    """Rows that tie in a list's order (forums on the same day) come by key, as in the API's pages: two archives
    of the same data list them alike."""
    for name, viewset in exports.RESOURCES:
        ordering = exports.listed_rows(viewset()).query.order_by
        assert ordering[-1] in ("pk", "-pk", "id", "-id"), (name, ordering)
        assert list(ordering[: len(viewset.ordering)]) == list(viewset.ordering), name


def _add_values(count: int, start: int = 0) -> None:
    indicator = IndicatorFactory(is_public=True)
    first = datetime.date(1900, 1, 1)
    IndicatorValue.objects.bulk_create(
        IndicatorValue(
            indicator=indicator,
            date=first + datetime.timedelta(days=day),
            value=Decimal(day) / 7,
            recorded_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC),
            note="relevé",
        )
        for day in range(start, start + count)
    )


def _build_peak() -> int:
    gc.collect()  # the same start for both builds: no garbage left by what came before
    tracemalloc.start()
    try:
        exports.build_archive(force=True)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    # Smaller chunks than in production, so that a few thousand rows in the test make many chunks.
    monkeypatch.setattr(exports, "CHUNK_SIZE", 100)


def test_memory_does_not_grow_with_the_data(db: None, small_chunks: None) -> None:
    _add_values(1_000)
    small = _build_peak()
    _add_values(9_000, start=1_000)
    large = _build_peak()

    assert len(json.loads(zipfile.ZipFile(exports.archive_path()).read("indicator-values.json"))) == 10_000
    # Built in one piece, the archive took about 2.9 kB per value (11.5 GB for 4 million): 29 MB here. In
    # chunks of 100, the peak is one chunk's objects and the zip's buffers, under 2 MB, and does not follow
    # the data: ten times the values add less than the garbage the collector may leave pending (0.5 MB).
    assert large < small + 512 * 1024, (small, large)
    assert large < 2 * 1024 * 1024, large


def test_a_build_costs_the_same_queries_whatever_the_number_of_values(db: None, small_chunks: None) -> None:
    _add_values(10)
    with CaptureQueriesContext(connection) as few:
        exports.build_archive(force=True)
    _add_values(150, start=10)
    with CaptureQueriesContext(connection) as many:
        exports.build_archive(force=True)

    assert len(few) == len(many)


@pytest.mark.django_db(transaction=True)
def test_concurrent_builds_leave_one_whole_archive(exports_dir: Path) -> None:
    _add_values(300)
    start = threading.Barrier(4)
    results: list[object] = []

    def build() -> None:
        start.wait()
        try:
            results.append(exports.build_archive(force=True))
        finally:
            connection.close()

    threads = [threading.Thread(target=build) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Those that found the lock taken gave up; any that came after built again, each into a file of its own.
    assert any(isinstance(result, exports.Archive) for result in results) and len(results) == 4
    assert _files(exports_dir) == {exports.ARCHIVE_NAME}
    archive = zipfile.ZipFile(exports.archive_path())
    assert archive.testzip() is None
    assert len(json.loads(archive.read("indicator-values.json"))) == 300
