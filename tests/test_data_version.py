"""The data version every request asks for (opengov.middleware.last_data_change): on PostgreSQL, its query is
prepared once per connection, so that a request pays its run and not its planning (1.7 ms of 1.9)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opengov import middleware
from tests.factories import CommitmentFactory

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL")


@pytest.fixture(autouse=True)
def persistent_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    """As deployed (CONN_MAX_AGE 60 with DEBUG off); the tests run with DEBUG, whose connections last a request."""
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return [name for (name,) in cursor.fetchall()]


def test_the_version_moves_when_data_changes() -> None:
    before = middleware.last_data_change()

    commitment = CommitmentFactory()

    changed = middleware.last_data_change()
    assert changed > before
    assert changed == commitment.history.latest("history_date").history_date
    with CaptureQueriesContext(connection) as queries:
        middleware.last_data_change()
    assert len(queries) == 1


@postgresql_only
def test_a_request_runs_the_prepared_statement_alone() -> None:
    middleware.last_data_change()

    with CaptureQueriesContext(connection) as queries:
        middleware.last_data_change()

    assert [query["sql"] for query in queries] == [f"EXECUTE {middleware.DATA_VERSION_STATEMENT}"]
    assert _prepared().count(middleware.DATA_VERSION_STATEMENT) == 1


@postgresql_only
@pytest.mark.django_db(transaction=True)  # a connection inside a test's transaction cannot be closed
def test_a_new_connection_prepares_it_again_and_reads_the_same_version() -> None:
    first = middleware.last_data_change()
    connection.close()  # as CONN_MAX_AGE or a lost connection would

    with CaptureQueriesContext(connection) as queries:
        again = middleware.last_data_change()

    assert again == first
    # Preparing is not one of the request's queries: the counts the tests compare stay the same.
    assert len(queries) == 1
    assert middleware.DATA_VERSION_STATEMENT in _prepared()


@postgresql_only
def test_a_statement_the_wrapper_forgot_is_not_prepared_twice() -> None:
    middleware.last_data_change()
    del connection._opengov_data_version_on  # the connection still holds it

    # A second PREPARE of the same name would fail, and abort the transaction the request is in.
    middleware.last_data_change()
    CommitmentFactory()

    assert _prepared().count(middleware.DATA_VERSION_STATEMENT) == 1


@postgresql_only
def test_the_prepared_statement_sees_a_change_at_once() -> None:
    before = middleware.last_data_change()
    later = before + datetime.timedelta(days=365)

    CommitmentFactory().history.update(history_date=later)

    assert middleware.last_data_change() == later


@postgresql_only
def test_connections_that_last_a_request_ask_the_plain_query(monkeypatch: pytest.MonkeyPatch) -> None:
    """CONN_MAX_AGE=0, as behind a pooler in transaction mode: a statement prepared on one server connection would be
    missing on the next."""
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)

    with CaptureQueriesContext(connection) as queries:
        middleware.last_data_change()

    assert [query["sql"] for query in queries] == [middleware._data_version_sql()]
