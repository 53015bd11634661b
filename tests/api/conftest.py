"""What every API test starts from: a fresh anonymous rate count, and a client."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def fresh_throttle() -> None:
    # Anonymous throttling counts in the cache; each test starts with a clean count.
    cache.clear()


@pytest.fixture
def api() -> APIClient:
    return APIClient()
