"""Pages of the API's lists (issue 9): CSV paginated as JSON, links in headers, the values' cursor."""

import base64
import csv
import datetime
import io
import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from indicators.models import IndicatorValue
from tests.factories import (
    AnswerFactory,
    AxisFactory,
    CarrierFactory,
    CommitmentFactory,
    ContributionFactory,
    IndicatorFactory,
    IndicatorValueFactory,
)

pytestmark = pytest.mark.django_db


def _links(response: object) -> dict[str, str]:
    """The Link header (RFC 8288) as {rel: address}."""
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="([^"]+)"', response.get("Link", ""))}


def _csv_rows(response: object) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))


def _walk(api: APIClient, url: str) -> list[list[dict]]:
    """Every page of a JSON list, following next."""
    pages = []
    while url:
        body = api.get(url).json()
        pages.append(body["results"])
        url = body["next"]
    return pages


def _values(count_by_indicator: dict[object, int]) -> None:
    for indicator, count in count_by_indicator.items():
        for day in range(count):
            IndicatorValueFactory(indicator=indicator, date=datetime.date(2020, 1, 1) + datetime.timedelta(days=day))


def _cursor(direction: str, *position: object) -> str:
    return base64.urlsafe_b64encode(json.dumps({direction: [str(value) for value in position]}).encode()).decode()


# --- CSV, a page at a time -------------------------------------------------------------------------------------------


def test_a_csv_list_is_paginated_as_json_with_the_next_page_in_a_link_header(api: APIClient) -> None:
    CommitmentFactory.create_batch(7)

    first = api.get("/api/v1/commitments/?format=csv&page_size=3")
    second = api.get(_links(first)["next"])
    last = api.get(_links(second)["next"])

    assert [len(_csv_rows(page)) for page in (first, second, last)] == [3, 3, 1]
    assert first["X-Total-Count"] == second["X-Total-Count"] == last["X-Total-Count"] == "7"
    assert set(_links(first)) == {"next"} and set(_links(second)) == {"next", "prev"} and set(_links(last)) == {"prev"}
    assert "format=csv" in _links(first)["next"] and "page=2" in _links(first)["next"]
    assert api.get(_links(last)["prev"]).content == second.content
    # Every commitment once, in the order of the JSON pages, which carry the same links.
    json_pages = [api.get(f"/api/v1/commitments/?page_size=3&page={number}") for number in (1, 2, 3)]
    assert [row["key"] for page in (first, second, last) for row in _csv_rows(page)] == [
        item["key"] for page in json_pages for item in page.json()["results"]
    ]
    assert _links(json_pages[1]) == {rel: url.replace("format=csv&", "") for rel, url in _links(second).items()}
    assert json_pages[0]["X-Total-Count"] == "7" and json_pages[0].json()["count"] == 7


def test_a_csv_list_is_never_longer_than_the_largest_page(api: APIClient, settings: object) -> None:
    CommitmentFactory.create_batch(4)
    ask_for_everything = api.get("/api/v1/commitments/?format=csv&page_size=100000")

    from opengov.api_output import Pagination

    assert Pagination.max_page_size == settings.API_MAX_PAGE_SIZE
    assert len(_csv_rows(ask_for_everything)) == 4
    assert len(_csv_rows(api.get("/api/v1/commitments/?format=csv"))) == 4


def test_every_list_reads_the_same_rows_page_by_page_as_in_one_page(api: APIClient) -> None:
    """Deep pages find their rows by key first (KeysFirstPaginator): they must be the rows an OFFSET gives."""
    for number in range(1, 8):
        axis = AxisFactory(number=number)
        commitment = CommitmentFactory(plan=axis.plan, axis=axis, progress=number * 10, progress_rule="milestones")
        CarrierFactory(commitment=commitment)
        IndicatorFactory(commitment=commitment)
        answered = ContributionFactory(commitment=commitment)
        if number % 2:
            AnswerFactory(contribution=answered, answered_at=timezone.now() - datetime.timedelta(hours=number))
    lists = [
        "/api/v1/plans/",
        "/api/v1/axes/",
        "/api/v1/administrations/",
        "/api/v1/commitments/?ordering=-progress",
        "/api/v1/commitments/?late=false",
        "/api/v1/indicators/",
        "/api/v1/contributions/?ordering=answered_at",
        "/api/v1/contributions/?answered=true",
    ]

    for url in lists:
        separator = "&" if "?" in url else "?"
        whole = api.get(f"{url}{separator}page_size=500").json()["results"]
        pages = _walk(api, f"{url}{separator}page_size=2")
        assert len(pages) == (len(whole) + 1) // 2, url
        assert [item for page in pages for item in page] == whole, url


# --- Indicator values: a cursor -------------------------------------------------------------------------------------


def test_the_cursor_pages_through_every_public_value_exactly_once_in_both_directions(api: APIClient) -> None:
    first, second, third = IndicatorFactory(), IndicatorFactory(), IndicatorFactory()
    _values({first: 5, second: 1, third: 4, IndicatorFactory(is_public=False): 3})
    expected = list(
        IndicatorValue.objects.filter(indicator__is_public=True)
        .order_by("indicator_id", "date")
        .values_list("pk", flat=True)
    )

    forward, url = [], "/api/v1/indicator-values/?page_size=3"
    while url:
        page = api.get(url).json()
        assert set(page) == {"next", "previous", "results"}  # no count: it would read every row
        forward.append([value["id"] for value in page["results"]])
        last, url = url, page["next"]
    backward, url = [], api.get(last).json()["previous"]
    while url:
        page = api.get(url).json()
        backward.insert(0, [value["id"] for value in page["results"]])
        url = page["previous"]

    assert [pk for page in forward for pk in page] == expected
    assert [len(page) for page in forward] == [3, 3, 3, 1]
    assert backward == forward[:-1]


def test_the_csv_of_the_values_follows_the_same_cursor(api: APIClient) -> None:
    _values({IndicatorFactory(): 5})

    rows, url = [], "/api/v1/indicator-values/?format=csv&page_size=2"
    while url:
        response = api.get(url)
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert "X-Total-Count" not in response
        rows += _csv_rows(response)
        url = _links(response).get("next")
    json_values = api.get("/api/v1/indicator-values/?page_size=500").json()["results"]

    assert [row["id"] for row in rows] == [str(value["id"]) for value in json_values]
    assert len(rows) == 5


@pytest.mark.parametrize(
    "filters",
    [
        {"indicator": "first"},
        {"commitment": "first"},
        {"plan": "first"},
        {"date_after": "2020-01-03", "date_before": "2020-01-04"},
        {"updated_since": "recent"},
    ],
)
def test_the_filters_of_the_values_hold_on_every_page_of_the_cursor(api: APIClient, filters: dict) -> None:
    first, other = IndicatorFactory(), IndicatorFactory()
    _values({first: 5, other: 5})
    recent = timezone.now() - datetime.timedelta(days=1)
    IndicatorValue.objects.filter(indicator=other, date__lte=datetime.date(2020, 1, 2)).update(recorded_at=recent)
    IndicatorValue.objects.exclude(recorded_at=recent).update(recorded_at=recent - datetime.timedelta(days=30))
    queries = {
        "indicator": (first.pk, {"indicator": first}),
        "commitment": (f"{first.commitment.plan.slug}-{first.commitment.number}", {"indicator": first}),
        "plan": (first.commitment.plan.slug, {"indicator__commitment__plan": first.commitment.plan}),
        "date_after": ("2020-01-03", {"date__gte": datetime.date(2020, 1, 3)}),
        "date_before": ("2020-01-04", {"date__lte": datetime.date(2020, 1, 4)}),
        "updated_since": (recent.isoformat(), {"recorded_at__gte": recent}),
    }
    parameters, expected = {}, IndicatorValue.objects.all()
    for name in filters:
        parameters[name], lookup = queries[name]
        expected = expected.filter(**lookup)

    url = "/api/v1/indicator-values/?" + "&".join(f"{name}={value}" for name, value in parameters.items())
    found = [value["id"] for page in _walk(api, url.replace("+", "%2B") + "&page_size=2") for value in page]

    assert found == list(expected.order_by("indicator_id", "date").values_list("pk", flat=True))
    assert 0 < len(found) < IndicatorValue.objects.count()


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        _cursor("after", 1),
        _cursor("after", 1, "2020-13-45"),
        _cursor("sideways", 1, "2020-01-01"),
        _cursor("after", "one", "2020-01-01"),
    ],
)
def test_a_cursor_that_was_not_given_is_a_json_404(api: APIClient, cursor: str) -> None:
    response = api.get("/api/v1/indicator-values/", {"cursor": cursor})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_page_deep_in_the_values_costs_the_queries_of_the_first(api: APIClient) -> None:
    indicator = IndicatorFactory()
    _values({indicator: 6})
    deep = f"/api/v1/indicator-values/?page_size=2&cursor={_cursor('after', indicator.pk, '2020-01-03')}"

    counts = []
    for url in ("/api/v1/indicator-values/?page_size=2", deep, deep + "&format=csv"):
        with CaptureQueriesContext(connection) as queries:
            response = api.get(url)
        assert response.status_code == 200
        counts.append(len(queries))

    assert [value["date"] for value in api.get(deep).json()["results"]] == ["2020-01-04", "2020-01-05"]
    assert counts[0] == counts[1] == counts[2], counts


def test_the_values_of_a_withdrawn_indicator_are_not_listed(api: APIClient) -> None:
    hidden = IndicatorFactory(is_public=False)
    IndicatorValueFactory(indicator=hidden, value=Decimal(1))

    assert api.get("/api/v1/indicator-values/").json()["results"] == []
    assert api.get("/api/v1/indicator-values/", {"indicator": hidden.pk}).json()["results"] == []


# --- The schema says all this -----------------------------------------------------------------------------------------


def test_the_schema_describes_the_cursor_the_link_and_the_count_headers(db: None) -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    values = schema["paths"]["/api/v1/indicator-values/"]["get"]
    commitments = schema["paths"]["/api/v1/commitments/"]["get"]
    values_page = schema["components"]["schemas"]["PaginatedIndicatorValueList"]

    assert {"cursor", "page_size"} <= {parameter["name"] for parameter in values["parameters"]}
    assert not {"page", "ordering"} & {parameter["name"] for parameter in values["parameters"]}
    assert "count" not in values_page["properties"]
    assert set(values["responses"]["200"]["headers"]) == {"Link"}
    assert set(commitments["responses"]["200"]["headers"]) == {"Link", "X-Total-Count"}
    format_parameter = next(p for p in commitments["parameters"] if p["name"] == "format")
    assert "/api/v1/bulk/opengov-donnees.zip" in format_parameter["description"]
