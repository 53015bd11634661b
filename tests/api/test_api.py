import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import MembershipRole
from commitments.models import Commitment, CommitmentCompletion, Milestone
from indicators.models import IndicatorValue
from tests.factories import (
    ActionPlanFactory,
    AdministrationFactory,
    AxisFactory,
    CarrierFactory,
    CommitmentFactory,
    ForumFactory,
    IndicatorFactory,
    IndicatorValueFactory,
    MembershipFactory,
    MilestoneFactory,
)

pytestmark = pytest.mark.django_db


def _fill(count: int) -> str:
    plan = ActionPlanFactory()
    axis = AxisFactory(plan=plan, number=1)
    forum = ForumFactory()
    for number in range(1, count + 1):
        commitment = CommitmentFactory(plan=plan, axis=axis, number=number)
        CarrierFactory(commitment=commitment)
        CarrierFactory(commitment=commitment, role="support")
        MilestoneFactory(commitment=commitment)
        indicator = IndicatorFactory(commitment=commitment)
        IndicatorValueFactory(indicator=indicator)
        forum.commitments.add(commitment)
    return plan.slug


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/plans/",
        "/api/v1/axes/",
        "/api/v1/administrations/",
        "/api/v1/commitments/",
        "/api/v1/commitments/?late=true&administration=nobody&q=Engagement",
        "/api/v1/commitments/?format=csv",
        "/api/v1/milestones/",
        "/api/v1/indicators/",
        "/api/v1/indicator-values/",
        "/api/v1/indicator-values/?format=csv&page_size=2",
        "/api/v1/forums/",
        # Deep pages, whose rows are found by their keys first (opengov.api_output.KeysFirstPaginator).
        "/api/v1/commitments/?page=2&page_size=2&format=csv",
        "/api/v1/indicators/?page=2&page_size=2",
        "/api/v1/plans/?page=last&page_size=1",
        "/api/v1/forums/?page=last&page_size=1&date_after=2000-01-01",
    ],
)
def test_lists_cost_the_same_queries_whatever_the_number_of_objects(api: APIClient, url: str) -> None:
    counts = []
    for size in (3, 40):
        _fill(size)
        with CaptureQueriesContext(connection) as queries:
            assert api.get(url).status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1], counts


def test_every_resource_answers_with_links_to_the_api_and_the_site(api: APIClient, reference_data: None) -> None:
    root = api.get("/api/v1/").json()
    plan = api.get("/api/v1/plans/2018-2020/").json()
    commitment = api.get("/api/v1/commitments/FR0033/").json()

    assert set(root) == {
        "plans",
        "axes",
        "administrations",
        "commitments",
        "milestones",
        "indicators",
        "indicator-values",
        "forums",
        "contributions",
    }
    assert plan["commitment_count"] == 21 and plan["progress"] is None and plan["predecessor"] == "2015-2017"
    assert commitment["key"] == "2018-2020-4" and commitment["axis"] == 2
    assert commitment["links"] == {
        "api": "http://testserver/api/v1/commitments/2018-2020-4/",
        "site": "http://testserver/plans/2018-2020/engagements/4/",
    }
    assert api.get("/api/v1/commitments/2018-2020-4/").json() == commitment
    assert {"administration": "ministere-de-l-interieur", "role": "lead"}.items() <= (
        api.get("/api/v1/commitments/2015-2017-1/").json()["carriers"][0].items()
    )


def test_filters_combine(api: APIClient, reference_data: None) -> None:
    hatvp = "haute-autorite-transparence-vie-publique"

    by_axis = api.get("/api/v1/commitments/", {"plan": "2018-2020", "axis": 2}).json()
    by_carrier = api.get("/api/v1/commitments/", {"administration": hatvp, "role": "lead"}).json()
    support_only = api.get("/api/v1/commitments/", {"administration": "ville-de-rennes", "role": "lead"}).json()
    words = api.get("/api/v1/commitments/", {"q": "algorithmes", "plan": "2018-2020"}).json()
    ordered = api.get("/api/v1/commitments/", {"plan": "2018-2020", "ordering": "-number", "page_size": 2}).json()

    assert {c["number"] for c in by_axis["results"]} == set(range(4, 12))
    assert {c["key"] for c in by_carrier["results"]} == {"2015-2017-6", "2018-2020-20", "2018-2020-21"}
    assert support_only["count"] == 0
    assert [c["number"] for c in words["results"]] == [6]
    assert [c["number"] for c in ordered["results"]] == [21, 20] and ordered["count"] == 21


def test_the_late_filter_selects_what_is_late_says(api: APIClient) -> None:
    today = datetime.date.today()
    late = MilestoneFactory(due_date=today - datetime.timedelta(days=3)).commitment
    MilestoneFactory(commitment=late, due_date=today - datetime.timedelta(days=1))
    MilestoneFactory(due_date=today - datetime.timedelta(days=3), completed_on=today)
    MilestoneFactory(due_date=today + datetime.timedelta(days=3))

    answers = {value: api.get("/api/v1/commitments/", {"late": value}).json()["results"] for value in ["true", "false"]}

    assert [item["key"] for item in answers["true"]] == [f"{late.plan.slug}-{late.number}"]
    assert len(answers["false"]) == 2
    assert [item["is_late"] for item in answers["true"] + answers["false"]] == [True, False, False]


def test_updated_since_returns_what_changed(api: APIClient, reference_data: None) -> None:
    since = datetime.datetime.now(datetime.UTC)
    from commitments import services

    services.set_completion(
        commitment=Commitment.objects.get(ogp_id="FR0031"), completion="limited", progress_note="", by=None
    )

    changed = api.get("/api/v1/commitments/", {"updated_since": since.isoformat()}).json()

    assert [c["key"] for c in changed["results"]] == ["2018-2020-2"]


def test_values_filter_by_date_range(api: APIClient) -> None:
    indicator = IndicatorFactory()
    for year in (2018, 2019, 2020):
        IndicatorValueFactory(indicator=indicator, date=datetime.date(year, 6, 30), value=Decimal(year))

    values = api.get(
        "/api/v1/indicator-values/",
        {"indicator": indicator.pk, "date_after": "2019-01-01", "date_before": "2020-12-31"},
    ).json()
    nested = api.get(f"/api/v1/indicators/{indicator.pk}/values/").json()

    assert [v["value"] for v in values["results"]] == [2019, 2020]
    assert [v["date"] for v in nested] == ["2018-06-30", "2019-06-30", "2020-06-30"]


def test_page_size_has_a_default_and_a_maximum(api: APIClient, reference_data: None) -> None:
    assert len(api.get("/api/v1/administrations/").json()["results"]) == 50
    assert len(api.get("/api/v1/administrations/", {"page_size": 10_000}).json()["results"]) == 52


def test_csv_keeps_numbers_and_neutralises_formulas(api: APIClient) -> None:
    indicator = IndicatorFactory(name="=cmd|' /C calc'!A0")
    IndicatorValueFactory(indicator=indicator, value=Decimal("-3.5"), note="@SUM(A1)")

    response = api.get("/api/v1/indicator-values/?format=csv")
    indicators = api.get("/api/v1/indicators/?format=csv")

    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="opengov-indicator-value.csv"' in response["Content-Disposition"]
    assert rows[0]["value"] == "-3.5" and rows[0]["note"] == "'@SUM(A1)"
    assert "'=cmd|' /C calc'!A0" in indicators.content.decode()


def test_a_matching_conditional_request_gets_a_304_without_building_the_body(
    api: APIClient, reference_data: None
) -> None:
    first = api.get("/api/v1/commitments/")

    with CaptureQueriesContext(connection) as queries:
        again = api.get("/api/v1/commitments/", headers={"if-none-match": first["ETag"]})
    # Read now: the next request empties the log that the count is read from.
    query_count = len(queries)
    by_date = api.get("/api/v1/commitments/", headers={"if-modified-since": first["Last-Modified"]})

    assert set(first["Cache-Control"].split(", ")) == {"public", "max-age=60"}
    assert again.status_code == 304 and again.content == b""
    assert query_count == 1  # when the data last changed; no commitment was read
    assert by_date.status_code == 304
    assert api.get("/api/v1/commitments/?format=csv", headers={"if-none-match": first["ETag"]}).status_code == 200


def test_anonymous_clients_are_throttled_with_retry_after(api: APIClient, db: None, settings) -> None:
    from rest_framework.throttling import AnonRateThrottle

    rates = {"anon": "3/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    original = AnonRateThrottle.THROTTLE_RATES
    AnonRateThrottle.THROTTLE_RATES = rates
    try:
        answers = [api.get("/api/v1/plans/") for _ in range(4)]
    finally:
        AnonRateThrottle.THROTTLE_RATES = original

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert int(answers[-1]["Retry-After"]) > 0
    assert answers[-1].json()["error"]["code"] == "throttled"


@pytest.mark.parametrize(
    ("method", "url", "status", "code"),
    [
        ("get", "/api/v1/commitments/1999-2001-1/", 404, "not_found"),
        ("get", "/api/v1/nothing-here/", 404, "not_found"),
        ("get", "/api/v1/commitments/?late=maybe", 400, "invalid"),
        ("get", "/api/v1/commitments/?updated_since=yesterday", 400, "invalid"),
        ("delete", "/api/v1/plans/2018-2020/", 405, "method_not_allowed"),
        ("post", "/api/v1/indicators/1/values/", 401, "not_authenticated"),
        ("post", "/api/v1/milestones/1/done/", 401, "not_authenticated"),
    ],
)
def test_errors_have_one_json_shape(
    api: APIClient, reference_data: None, method: str, url: str, status: int, code: str
) -> None:
    response = getattr(api, method)(url)

    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert (error["status"], error["code"]) == (status, code) and error["message"]
    if code == "invalid":
        assert set(error["fields"]) in ({"late"}, {"updated_since"})


def test_a_wrong_method_is_a_json_405(api: APIClient, reference_data: None) -> None:
    token = Token.objects.create(user=MembershipFactory(role=MembershipRole.COORDINATOR).user)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = api.delete("/api/v1/plans/2018-2020/")

    assert response.status_code == 405 and response.json()["error"]["code"] == "method_not_allowed"


def test_the_schema_and_the_docs_are_served_without_a_cdn(api: APIClient, db: None) -> None:
    schema = api.get("/api/schema/")
    docs = api.get("/api/docs/")

    assert schema.status_code == 200 and b"openapi: 3" in schema.content
    assert b"/static/drf_spectacular_sidecar/" in docs.content
    assert b"cdn" not in docs.content.lower() and b"unpkg" not in docs.content


# --- Writes: the permission matrix -----------------------------------------------------------------


@pytest.fixture
def carried() -> dict:
    """A commitment carried by one administration, with an indicator, a value and a milestone."""
    carrier = CarrierFactory()
    indicator = IndicatorFactory(commitment=carrier.commitment)
    value = IndicatorValueFactory(indicator=indicator, date=datetime.date(2019, 1, 1), value=Decimal(5))
    milestone = MilestoneFactory(commitment=carrier.commitment)
    return {"administration": carrier.administration, "indicator": indicator, "value": value, "milestone": milestone}


def _client(kind: str, carried: dict) -> APIClient:
    client = APIClient()
    if kind == "anonymous":
        return client
    administration = {
        "other administration": AdministrationFactory(),
        "carrying administration": carried["administration"],
        "coordinator": AdministrationFactory(),
    }[kind]
    role = MembershipRole.COORDINATOR if kind == "coordinator" else MembershipRole.EDITOR
    token = Token.objects.create(user=MembershipFactory(administration=administration, role=role).user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def _state(carried: dict) -> tuple:
    return (
        list(IndicatorValue.objects.order_by("pk").values_list("date", "value", "note")),
        list(Milestone.objects.order_by("pk").values_list("completed_on", "evidence_url")),
        IndicatorValue.history.count() + Milestone.history.count(),
    )


WRITES = [
    ("record a value", "post", "/api/v1/indicators/{indicator}/values/", {"date": "2020-01-01", "value": "7.5"}, 201),
    ("correct a value", "post", "/api/v1/indicator-values/{value}/correct/", {"value": "6", "reason": "Erreur"}, 200),
    ("mark a milestone done", "post", "/api/v1/milestones/{milestone}/done/", {"completed_on": "2020-02-01"}, 200),
]


@pytest.mark.parametrize(
    ("kind", "allowed", "refusal"),
    [
        ("anonymous", False, 401),
        ("other administration", False, 403),
        ("carrying administration", True, None),
        ("coordinator", True, None),
    ],
)
@pytest.mark.parametrize(("what", "method", "url", "payload", "success"), WRITES)
def test_writes_are_only_for_the_carrying_administration_or_a_coordinator(
    carried: dict,
    kind: str,
    allowed: bool,
    refusal: int | None,
    what: str,
    method: str,
    url: str,
    payload: dict,
    success: int,
) -> None:
    client = _client(kind, carried)
    before = _state(carried)
    address = url.format(
        indicator=carried["indicator"].pk, value=carried["value"].pk, milestone=carried["milestone"].pk
    )

    response = getattr(client, method)(address, payload, format="json")

    if allowed:
        assert response.status_code == success, response.content
        assert _state(carried) != before
    else:
        assert response.status_code == refusal
        assert response.json()["error"]["status"] == refusal
        assert _state(carried) == before


def test_a_write_goes_through_the_services_and_into_the_history(carried: dict) -> None:
    client = _client("carrying administration", carried)

    client.post(f"/api/v1/indicators/{carried['indicator'].pk}/values/", {"date": "2020-01-01", "value": "50"})
    client.post(f"/api/v1/indicator-values/{carried['value'].pk}/correct/", {"value": "6", "reason": "Doublon retiré"})

    correction = carried["value"].history.first()
    assert correction.history_change_reason == "Doublon retiré"
    assert correction.history_administration == carried["administration"]
    commitment = carried["indicator"].commitment
    commitment.refresh_from_db()
    assert commitment.updated_by == carried["administration"]


@pytest.mark.parametrize(
    ("url", "payload", "field"),
    [
        ("/api/v1/indicators/{indicator}/values/", {"date": "2020-13-01", "value": "1"}, "date"),
        ("/api/v1/indicators/{indicator}/values/", {"date": "2020-01-01", "value": "beaucoup"}, "value"),
        ("/api/v1/indicators/{indicator}/values/", {"date": "2019-01-01", "value": "1"}, "date"),  # exists
        ("/api/v1/indicators/{indicator}/values/", {"date": "2999-01-01", "value": "1"}, "date"),  # future
        ("/api/v1/indicator-values/{value}/correct/", {"value": "6"}, "reason"),
        ("/api/v1/indicator-values/{value}/correct/", {"value": "6", "reason": "   "}, "reason"),
        ("/api/v1/milestones/{milestone}/done/", {"completed_on": "2999-01-01"}, "completed_on"),
        (
            "/api/v1/milestones/{milestone}/done/",
            {"completed_on": "2020-01-01", "evidence_url": "nope"},
            "evidence_url",
        ),
    ],
)
def test_bad_writes_name_the_field_and_change_nothing(carried: dict, url: str, payload: dict, field: str) -> None:
    client = _client("carrying administration", carried)
    before = _state(carried)

    response = client.post(
        url.format(indicator=carried["indicator"].pk, value=carried["value"].pk, milestone=carried["milestone"].pk),
        payload,
        format="json",
    )

    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert _state(carried) == before


def test_a_withdrawn_completion_does_not_break_the_commitment_list(api: APIClient) -> None:
    CommitmentFactory(completion=CommitmentCompletion.WITHDRAWN)

    assert api.get("/api/v1/commitments/").status_code == 200


def test_a_commitment_names_its_predecessor_by_key_in_the_list_the_detail_and_the_csv(api: APIClient) -> None:
    # The key comes from columns the view annotates (CommitmentViewSet.get_queryset), not a joined commitment.
    earlier = CommitmentFactory(plan=ActionPlanFactory(slug="2015-2017", start_year=2015), number=7)
    CommitmentFactory(plan=ActionPlanFactory(slug="2018-2020", start_year=2018), number=3, predecessor=earlier)

    listed = {row["key"]: row["predecessor"] for row in api.get("/api/v1/commitments/").json()["results"]}
    detail = api.get("/api/v1/commitments/2018-2020-3/").json()
    table = list(csv.DictReader(io.StringIO(api.get("/api/v1/commitments/?format=csv").content.decode())))

    assert listed == {"2015-2017-7": None, "2018-2020-3": "2015-2017-7"}
    assert detail["predecessor"] == "2015-2017-7"
    assert {row["key"]: row["predecessor"] for row in table} == {"2015-2017-7": "", "2018-2020-3": "2015-2017-7"}


def test_the_schema_describes_every_operation_parameter_and_field(db: None) -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)

    undescribed = [
        f"{name}.{field}"
        for name, component in schema["components"]["schemas"].items()
        for field, description in component.get("properties", {}).items()
        if not description.get("description")
    ]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if not operation.get("description"):
                undescribed.append(f"{method} {path}")
            undescribed += [
                f"{method} {path} ?{parameter['name']}"
                for parameter in operation.get("parameters", [])
                if not parameter.get("description")
            ]
            assert {"400", "404", "429"} <= set(operation["responses"]), f"{method} {path}"
    assert undescribed == []


def test_milestones_and_forums_filter_by_commitment_key(api: APIClient, reference_data: None) -> None:
    commitment = Commitment.objects.get(ogp_id="FR0049")
    MilestoneFactory(commitment=commitment, title="Registre ouvert")

    milestones = api.get("/api/v1/milestones/", {"commitment": "2018-2020-20"}).json()
    forums = api.get("/api/v1/forums/", {"commitment": "2018-2020-20"}).json()
    nothing = api.get("/api/v1/forums/", {"commitment": "not-a-key"}).json()

    assert [m["title"] for m in milestones["results"]] == ["Registre ouvert"]
    assert [f["number"] for f in forums["results"]] == [2]
    assert nothing["count"] == 0
