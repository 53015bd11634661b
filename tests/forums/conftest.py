from collections.abc import Iterator

import pytest

from tests.indicators.services import broker, celery_processes, redis_server

__all__ = ["broker", "celery_processes", "redis_server"]


@pytest.fixture(autouse=True)
def _tasks_in_process(in_process_tasks: None) -> Iterator[None]:
    """Notices are sent in the test's process (test_worker.py's broker fixture hands them to a real worker)."""
    yield
