"""The API against its own OpenAPI schema, as served at /api/schema/: schemathesis generates requests for
every operation, sends them to the project's WSGI application in-process, and checks each answer.

What must hold, for every request generated: no 5xx, and the answer conforms to the schema (its status
code is documented, its content type too, and its body matches the documented schema). Requests are
anonymous, so a write operation must answer 401 in the documented error shape.

Bounded and reproducible: a fixed seed (each operation's derived from it), no example database, at most
MAX_EXAMPLES generated requests per operation in the fuzzing phase, plus the few schemathesis derives from
the schema itself (examples and coverage phases); positive and negative (invalid) data both. Runs in
about 20 seconds on 2 cores once every check passes; a failing operation stops at its first failure.
"""

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import strategies as st
from rest_framework.throttling import AnonRateThrottle

from commitments.models import Commitment
from commitments.reference_data import load_reference_data
from opengov.wsgi import application
from tests.factories import IndicatorFactory, IndicatorValueFactory, MilestoneFactory

SEED = 20260101
MAX_EXAMPLES = 25

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {
            "deterministic": True,
            "max-examples": MAX_EXAMPLES,
            # No example database: a failure found in one run is not replayed first in the next, so
            # every run sends the same requests (Hypothesis still caches constants in .hypothesis/).
            "database": "none",
        },
    }
)

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
]


@contextmanager
def requests_keep_the_test_connection() -> Iterator[None]:
    """Let the WSGI handler reuse the test's database connection, as Django's test client does.

    The handler closes "old" connections when a request starts and ends; inside the test's transaction
    that would close the connection the test data lives in (on PostgreSQL; SQLite in memory is spared).
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@contextmanager
def only_server_errors_logged() -> Iterator[None]:
    """Hundreds of 4xx answers are expected, and Django logs a warning for each; server errors are still logged."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def existing_keys(schema: schemathesis.BaseSchema) -> dict[str, list[dict[str, str]]]:
    """For each path with a parameter (/api/v1/plans/{slug}/...), the keys of the objects there are, as the
    list one level up (/api/v1/plans/) gives them: random keys alone would almost never name one.

    Asked through schemathesis, that is through the WSGI application: Django's test client would connect
    close_old_connections again after its request (see above)."""
    paths = schema.raw_schema["paths"]
    keys = {}
    for path in paths:
        match = re.fullmatch(r"(/.*/)\{(\w+)\}/.*", path)
        if match is None or "get" not in paths.get(match[1], {}):
            continue
        collection, name = match.groups()
        response = schema[collection]["GET"].Case(query={"page_size": 500}).call()
        results = response.json().get("results", []) if response.status_code == 200 else []
        keys[path] = [{name: str(item[name])} for item in results if name in item]
    return keys


@pytest.fixture
def api_schema(
    db: None, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[schemathesis.BaseSchema]:
    # The real plans, plus what the reference data has none of: a public indicator with two values,
    # and a milestone, so that every list has something in it.
    load_reference_data()
    commitment = Commitment.objects.get(plan__slug="2018-2020", number=4)
    indicator = IndicatorFactory(commitment=commitment, is_public=True)
    IndicatorValueFactory(indicator=indicator, date=date(2019, 1, 1), value=Decimal(20))
    IndicatorValueFactory(indicator=indicator, date=date(2020, 1, 1), value=Decimal(60))
    MilestoneFactory(commitment=commitment)

    # Anonymous clients are throttled (API_ANON_RATE, 120/minute by default), and this test sends far
    # more. DRF reads the rates into AnonRateThrottle.THROTTLE_RATES when it is imported, so the
    # `settings` fixture cannot change them: the rate is raised in that dict, for this test only. Per
    # second, so that the request history the throttle keeps in the cache stays short.
    monkeypatch.setitem(AnonRateThrottle.THROTTLE_RATES, "anon", "100000/second")

    # schemathesis 4.32.5 renames the test node after each operation through `node._nodeid`, an attribute
    # pytest 9.2 no longer has (it keeps the id in `node._id`); without it, a schema from a fixture fails
    # with AttributeError before any request. Giving the node that attribute back is enough: the
    # operation is still named in each subtest's report.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid

    with requests_keep_the_test_connection(), only_server_errors_logged():
        loaded = schemathesis.openapi.from_wsgi("/api/schema/", application, config=CONFIG)
        keys = existing_keys(loaded)

        # Half the path parameters generated name an object that exists, so that detail answers are checked too.
        @loaded.hook
        def flatmap_path_parameters(context: schemathesis.HookContext, path_parameters: dict) -> st.SearchStrategy:
            known = keys.get(context.operation.path)
            return st.one_of(st.just(path_parameters), st.sampled_from(known)) if known else st.just(path_parameters)

        yield loaded


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_every_operation_answers_as_documented(case: schemathesis.Case) -> None:
    # Each request in a savepoint rolled back after it: on PostgreSQL a database error aborts the whole
    # transaction, and every request after it would fail too, hiding which one was at fault.
    with transaction.atomic():
        try:
            case.call_and_validate(checks=CHECKS)
        finally:
            transaction.set_rollback(True)
