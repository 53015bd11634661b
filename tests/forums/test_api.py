import csv
import datetime
import io
import json
import zipfile
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from forums import services
from forums.models import ContributionKind, ContributionState
from tests.factories import (
    ActionPlanFactory,
    AdministrationFactory,
    AnswerFactory,
    CarrierFactory,
    CommitmentFactory,
    ContributionFactory,
    ForumFactory,
    noon_days_ago,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttle")]

SECRET_EMAIL = "secret-author@example.org"
SECRET_REASON = "Raison-privee-de-moderation"


def _ids(response: object) -> list[int]:
    return [contribution["id"] for contribution in response.json()["results"]]


def test_a_contribution_shows_its_public_fields_and_its_answer(api: APIClient) -> None:
    commitment = CommitmentFactory()
    answer = AnswerFactory(contribution__commitment=commitment, contribution__display_name="Camille")
    contribution = answer.contribution

    shown = api.get(f"/api/v1/contributions/{contribution.pk}/").json()

    assert shown == {
        "id": contribution.pk,
        "kind": "question",
        "body": contribution.body,
        "display_name": "Camille",
        "commitment": f"{commitment.plan.slug}-{commitment.number}",
        "forum": None,
        "published_at": shown["published_at"],
        "url": f"http://testserver{commitment.get_absolute_url()}#contribution-{contribution.pk}",
        "is_answered": True,
        "waiting_days": None,
        "answer": {
            "administration": answer.administration.slug,
            "administration_name": answer.administration.name,
            "body": answer.body,
            "answered_at": shown["answer"]["answered_at"],
            "updated_at": None,
        },
    }
    assert datetime.datetime.fromisoformat(shown["published_at"]) == contribution.published_at
    assert datetime.datetime.fromisoformat(shown["answer"]["answered_at"]) == answer.answered_at


def test_a_contribution_on_a_forum_only_links_to_the_forum_page(api: APIClient) -> None:
    forum = ForumFactory()
    contribution = ContributionFactory(commitment=None, forum=forum)

    shown = api.get(f"/api/v1/contributions/{contribution.pk}/").json()

    assert (shown["commitment"], shown["forum"], shown["answer"]) == (None, forum.pk, None)
    assert shown["url"] == f"http://testserver{forum.get_absolute_url()}#contribution-{contribution.pk}"


@pytest.mark.parametrize("state", [ContributionState.PENDING, ContributionState.REJECTED])
def test_what_is_not_published_is_neither_listed_nor_found(api: APIClient, state: str) -> None:
    published = ContributionFactory()
    hidden = ContributionFactory(state=state)

    listed = api.get("/api/v1/contributions/")
    found = api.get(f"/api/v1/contributions/{hidden.pk}/")

    assert _ids(listed) == [published.pk]
    assert found.status_code == 404 and found.json()["error"]["code"] == "not_found"
    assert api.get(f"/api/v1/contributions/{published.pk}/").status_code == 200


def test_the_author_email_and_a_rejection_reason_appear_nowhere(
    api: APIClient, settings: object, tmp_path: Path
) -> None:
    # A reason left on a published row (as from before a republication) must stay private too.
    published = ContributionFactory(email=SECRET_EMAIL, rejection_reason=SECRET_REASON, body="Texte public visible")
    AnswerFactory(contribution=published)
    ContributionFactory(email=SECRET_EMAIL, state=ContributionState.REJECTED, rejection_reason=SECRET_REASON)
    ContributionFactory(email=SECRET_EMAIL, state=ContributionState.PENDING)

    settings.EXPORTS_DIR = str(tmp_path)  # built for this test's data, not found from another's
    bulk = api.get("/api/v1/bulk/opengov-donnees.zip").getvalue()
    archive = zipfile.ZipFile(io.BytesIO(bulk))
    # The archive is compressed: its members must be read to be searched.
    outputs = {
        "list": api.get("/api/v1/contributions/").content,
        "detail": api.get(f"/api/v1/contributions/{published.pk}/").content,
        "csv": api.get("/api/v1/contributions/?format=csv").content,
        "schema": api.get("/api/schema/").content,
        "bulk": bulk,
    } | {f"bulk {name}": archive.read(name) for name in archive.namelist()}

    leaks = [
        where
        for where, content in outputs.items()
        for secret in (SECRET_EMAIL, SECRET_REASON, "rejection_reason", "secret-author")
        if secret.encode() in content
    ]
    assert leaks == []
    # The contribution is there, so the search above looked where it could have found something.
    shown_in = {where for where, content in outputs.items() if b"Texte public visible" in content}
    assert {"list", "detail", "csv", "bulk contributions.json", "bulk contributions.csv"} <= shown_in


def test_the_schema_describes_only_the_public_fields(api: APIClient) -> None:
    schema = api.get("/api/schema/?format=json").json()

    components = schema["components"]["schemas"]
    assert set(components["Contribution"]["properties"]) == {
        "id",
        "kind",
        "body",
        "display_name",
        "commitment",
        "forum",
        "published_at",
        "url",
        "is_answered",
        "waiting_days",
        "answer",
    }
    assert set(components["Answer"]["properties"]) == {
        "administration",
        "administration_name",
        "body",
        "answered_at",
        "updated_at",
    }


def test_filters_by_commitment_plan_forum_and_kind(api: APIClient) -> None:
    plan = ActionPlanFactory(slug="2018-2020")
    commitment = CommitmentFactory(plan=plan, number=5)
    other = CommitmentFactory(number=5)
    forum = ForumFactory()
    on_commitment = ContributionFactory(commitment=commitment)
    idea = ContributionFactory(commitment=commitment, kind=ContributionKind.IDEA)
    on_other = ContributionFactory(commitment=other)
    on_forum = ContributionFactory(commitment=None, forum=forum, kind=ContributionKind.COMMENT)

    def ids(**params: object) -> set[int]:
        response = api.get("/api/v1/contributions/", params)
        assert response.status_code == 200, response.content
        return set(_ids(response))

    assert ids(commitment="2018-2020-5") == {on_commitment.pk, idea.pk}
    assert ids(commitment="2018-2020-6") == set()
    assert ids(commitment="not-a-key") == set()
    assert ids(plan="2018-2020") == {on_commitment.pk, idea.pk}
    assert ids(plan=other.plan.slug) == {on_other.pk}
    assert ids(forum=forum.pk) == {on_forum.pk}
    assert ids(kind="idea") == {idea.pk}
    assert ids(kind="comment") == {on_forum.pk}
    assert ids(kind="question", plan="2018-2020") == {on_commitment.pk}
    assert api.get("/api/v1/contributions/", {"kind": "rant"}).status_code == 400


def test_filter_by_administration_finds_what_it_carries_and_what_it_answered(api: APIClient) -> None:
    lead = CarrierFactory(role="lead")
    support = CarrierFactory(commitment=lead.commitment, role="support")
    on_carried = ContributionFactory(commitment=lead.commitment)
    elsewhere = ContributionFactory()
    on_forum = ContributionFactory(commitment=None, forum=ForumFactory())
    AnswerFactory(contribution=on_forum, administration=support.administration)
    bystander = AdministrationFactory()

    def ids(administration: object) -> set[int]:
        return set(_ids(api.get("/api/v1/contributions/", {"administration": administration.slug})))

    assert ids(lead.administration) == {on_carried.pk}
    assert ids(support.administration) == {on_carried.pk, on_forum.pk}
    assert ids(bystander) == set()
    assert elsewhere.pk not in ids(lead.administration) | ids(support.administration)


def test_filter_by_answered(api: APIClient) -> None:
    answered = AnswerFactory().contribution
    waiting = ContributionFactory()

    assert _ids(api.get("/api/v1/contributions/", {"answered": "true"})) == [answered.pk]
    assert _ids(api.get("/api/v1/contributions/", {"answered": "false"})) == [waiting.pk]
    refused = api.get("/api/v1/contributions/", {"answered": "maybe"})
    assert refused.status_code == 400 and set(refused.json()["error"]["fields"]) == {"answered"}


def test_filter_by_publication_dates(api: APIClient) -> None:
    def published_on(day: datetime.date) -> int:
        moment = datetime.datetime.combine(day, datetime.time(12), tzinfo=datetime.UTC)
        return ContributionFactory(published_at=moment).pk

    march = published_on(datetime.date(2020, 3, 31))
    published_on(datetime.date(2020, 2, 28))
    published_on(datetime.date(2020, 4, 1))

    found = api.get("/api/v1/contributions/", {"published_after": "2020-03-01", "published_before": "2020-03-31"})

    assert _ids(found) == [march]


def test_updated_since_finds_new_answers_and_erased_names(api: APIClient) -> None:
    answered, erased, _untouched = ContributionFactory(), ContributionFactory(), ContributionFactory()
    since = timezone.now()

    AnswerFactory(contribution=answered)
    services.erase_contributor(contribution_ids=[erased.pk])

    changed = api.get("/api/v1/contributions/", {"updated_since": since.isoformat()})
    assert set(_ids(changed)) == {answered.pk, erased.pk}
    assert api.get(f"/api/v1/contributions/{erased.pk}/").json()["display_name"] == ""


def test_waiting_days_count_for_unanswered_questions_only(api: APIClient) -> None:
    four_days_ago = noon_days_ago(4)
    waiting = ContributionFactory(published_at=four_days_ago)
    fresh = ContributionFactory()
    answered = AnswerFactory(contribution__published_at=four_days_ago).contribution
    idea = ContributionFactory(published_at=four_days_ago, kind=ContributionKind.IDEA)

    shown = {c["id"]: c for c in api.get("/api/v1/contributions/").json()["results"]}

    assert shown[waiting.pk]["waiting_days"] == 4 and not shown[waiting.pk]["is_answered"]
    assert shown[fresh.pk]["waiting_days"] == 0
    assert shown[answered.pk]["waiting_days"] is None and shown[answered.pk]["is_answered"]
    assert shown[idea.pk]["waiting_days"] is None


def test_newest_first_by_default_and_ordering_by_answer_date(api: APIClient) -> None:
    now = timezone.now()
    old = ContributionFactory(published_at=now - datetime.timedelta(days=9))
    new = ContributionFactory(published_at=now - datetime.timedelta(days=1))
    AnswerFactory(contribution=old, answered_at=now - datetime.timedelta(hours=1))
    AnswerFactory(contribution=new, answered_at=now - datetime.timedelta(hours=2))

    assert _ids(api.get("/api/v1/contributions/")) == [new.pk, old.pk]
    assert _ids(api.get("/api/v1/contributions/", {"ordering": "published_at"})) == [old.pk, new.pk]
    assert _ids(api.get("/api/v1/contributions/", {"ordering": "-answered_at"})) == [old.pk, new.pk]


def test_csv_has_one_row_per_contribution_with_the_answer_flattened(api: APIClient) -> None:
    answer = AnswerFactory()
    ContributionFactory()

    response = api.get("/api/v1/contributions/?format=csv")

    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    assert 'filename="opengov-contribution.csv"' in response["Content-Disposition"]
    assert len(rows) == 2
    assert rows[1]["answer.administration"] == answer.administration.slug


def _fill(count: int) -> None:
    forum = ForumFactory()
    for number in range(count):
        carrier = CarrierFactory()
        on_commitment = ContributionFactory(commitment=carrier.commitment, forum=forum if number % 2 else None)
        AnswerFactory(contribution=on_commitment, administration=carrier.administration)
        ContributionFactory(commitment=None, forum=forum, kind=ContributionKind.COMMENT)
        ContributionFactory(state=ContributionState.PENDING, email=SECRET_EMAIL)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/contributions/",
        "/api/v1/contributions/?format=csv",
        "/api/v1/contributions/?answered=true&kind=question&ordering=-answered_at",
    ],
)
def test_the_list_costs_the_same_queries_whatever_the_number_of_contributions(api: APIClient, url: str) -> None:
    counts = []
    for more in (1, 4):  # 2 published rows, then 10
        _fill(more)
        with CaptureQueriesContext(connection) as queries:
            response = api.get(url)
        assert response.status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1], counts
    assert len(json.loads(api.get("/api/v1/contributions/").content)["results"]) == 10


def test_a_matching_conditional_request_gets_a_304_until_an_answer_changes_the_data(api: APIClient) -> None:
    contribution = ContributionFactory()
    first = api.get("/api/v1/contributions/")
    detail = api.get(f"/api/v1/contributions/{contribution.pk}/")

    with CaptureQueriesContext(connection) as queries:
        again = api.get("/api/v1/contributions/", headers={"if-none-match": first["ETag"]})
    query_count = len(queries)
    detail_again = api.get(f"/api/v1/contributions/{contribution.pk}/", headers={"if-none-match": detail["ETag"]})
    AnswerFactory(contribution=contribution)
    after_answer = api.get("/api/v1/contributions/", headers={"if-none-match": first["ETag"]})

    assert again.status_code == 304 and again.content == b""
    assert query_count == 1  # when the data last changed; no contribution was read
    assert detail_again.status_code == 304
    assert after_answer.status_code == 200 and after_answer.json()["results"][0]["is_answered"]
