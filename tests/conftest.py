from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from commitments.reference_data import load_reference_data
from opengov.celery import app
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def default_language() -> Iterator[None]:
    """Each test starts in French: a request to /en/ leaves its language active in the thread,
    and reverse() would then give English URLs to the next test."""
    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture(autouse=True)
def no_page_cache(settings: object) -> None:
    """Whole answers are not kept between requests, but in the page cache's own tests (tests/test_page_cache.py):
    a test's writes are never committed, so they would not change the data version, and a page stored by one
    test would be served to the next."""
    settings.PAGE_CACHE_ENABLED = False


@pytest.fixture(autouse=True)
def exports_dir(settings: object, tmp_path: Path) -> None:
    """Each test's bulk archive in a folder of its own: never var/exports, never another test's."""
    settings.EXPORTS_DIR = str(tmp_path / "exports")


@pytest.fixture
def in_process_tasks() -> Iterator[None]:
    """Tasks run in this process, as without REDIS_URL, even where the suite runs with Redis (CI)."""
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = saved


@pytest.fixture
def fresh_throttle() -> None:
    """Anonymous throttling counts in the cache: the API's tests each start with a clean count."""
    cache.clear()


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def superuser_client(client: Client) -> Client:
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def reference_data(db: None) -> None:
    """The project's real reference data, loaded as `make run` loads it."""
    load_reference_data()


def pytest_report_header() -> str:
    database = settings.DATABASES["default"]
    where = database.get("HOST") or database["NAME"]
    return f"database: {database['ENGINE']} {where}; redis: {settings.REDIS_URL or 'none'}"
