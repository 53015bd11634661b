from collections.abc import Iterator

import pytest
from django.utils import translation

from tests.indicators.services import broker, celery_processes, redis_server
from tests.indicators.source_server import source_server

__all__ = ["broker", "celery_processes", "redis_server", "source_server"]


@pytest.fixture
def english() -> Iterator[None]:
    with translation.override("en"):
        yield
