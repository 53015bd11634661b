"""Every API test starts from a fresh anonymous rate count (the fixtures are in tests/conftest.py)."""

import pytest


@pytest.fixture(autouse=True)
def _every_test_fresh_throttle(fresh_throttle: None) -> None:
    pass
