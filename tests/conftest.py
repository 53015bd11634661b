import pytest
from django.conf import settings

from commitments.reference_data import load_reference_data


@pytest.fixture
def reference_data(db: None) -> None:
    """The project's real reference data, loaded as `make run` loads it."""
    load_reference_data()


def pytest_report_header() -> str:
    database = settings.DATABASES["default"]
    where = database.get("HOST") or database["NAME"]
    return f"database: {database['ENGINE']} {where}; redis: {settings.REDIS_URL or 'none'}"
