import pytest

from commitments.reference_data import load_reference_data


@pytest.fixture
def reference_data(db: None) -> None:
    """The project's real reference data, loaded as `make run` loads it."""
    load_reference_data()
