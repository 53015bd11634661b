"""The citizens' pages of the dialogue: forums, the contribution form and its defences, questions and figures."""

import datetime
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from commitments.models import ActionPlanStatus
from forums import views
from forums.models import Contribution, ContributionKind, ContributionState
from tests.factories import (
    ActionPlanFactory,
    AnswerFactory,
    CarrierFactory,
    CommitmentFactory,
    ContributionFactory,
    ForumFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    cache.clear()  # the per-address limit lives there


def _form_url(commitment: object) -> str:
    return reverse("forums:contribute-commitment", args=[commitment.plan.slug, commitment.number])


def _send(client: Client, url: str, address: str = "127.0.0.1", **fields: str) -> object:
    return client.post(url, {"kind": "question", "body": "Où en est cet engagement ?", **fields}, REMOTE_ADDR=address)


def test_forums_are_listed_upcoming_soonest_first_then_past_latest_first(client: Client) -> None:
    today = timezone.localdate()
    later = ForumFactory(title="Plus tard", date=today + datetime.timedelta(days=60))
    soon = ForumFactory(title="Bientôt", date=today + datetime.timedelta(days=3))
    old = ForumFactory(title="Ancien", date=today - datetime.timedelta(days=400))
    recent = ForumFactory(title="Récent", date=today - datetime.timedelta(days=20))
    response = client.get(reverse("forums:list"))
    assert list(response.context["upcoming"]) == [soon, later]
    assert list(response.context["page"].object_list) == [recent, old]
    assert 'type="text/calendar"' in response.content.decode()


def test_a_forum_page_shows_its_facts_commitments_and_answered_questions(client: Client) -> None:
    commitment = CommitmentFactory(title="Ouvrir les données de la commande publique")
    forum = ForumFactory(
        number=7,
        title="Forum sur la commande publique",
        place="Paris, Ségur",
        theme="Les données des marchés",
        organisers=["Etalab", "DITP"],
        report_url="https://example.org/compte-rendu",
        start_time=datetime.time(18, 30),
    )
    forum.commitments.add(commitment)
    answer = AnswerFactory(contribution=ContributionFactory(commitment=None, forum=forum, body="Quand ?"))
    ContributionFactory(commitment=None, forum=forum, state=ContributionState.PENDING, body="Pas encore modérée")
    page = client.get(forum.get_absolute_url()).content.decode()
    for text in ("Forum sur la commande publique", "Paris, Ségur", "Etalab, DITP", "18:30", commitment.title):
        assert text in page
    assert "https://example.org/compte-rendu" in page
    assert "Quand ?" in page and answer.body in page and answer.administration.name in page
    assert "Pas encore modérée" not in page
    assert reverse("forums:contribute-forum", args=[forum.pk]) in page


def test_a_commitment_page_shows_published_questions_their_answers_and_the_wait(client: Client) -> None:
    commitment = CommitmentFactory()
    answered = AnswerFactory(
        contribution=ContributionFactory(commitment=commitment, body="Question répondue"),
        answered_at=timezone.make_aware(datetime.datetime(2024, 3, 5, 10)),
    )
    ContributionFactory(
        commitment=commitment, body="Question en attente", published_at=timezone.now() - datetime.timedelta(days=12)
    )
    ContributionFactory(commitment=commitment, body="Rejetée", state=ContributionState.REJECTED)
    ContributionFactory(commitment=commitment, body="En modération", state=ContributionState.PENDING)
    page = client.get(commitment.get_absolute_url()).content.decode()
    assert "Question répondue" in page and answered.body in page
    assert f"Répondue le 5 mars 2024 par {answered.administration.name}" in page
    assert "En attente de réponse depuis 12 jours" in page
    assert "Rejetée" not in page and "En modération" not in page
    assert _form_url(commitment) in page


def test_the_commitment_page_costs_the_same_queries_with_more_contributions(
    client: Client, django_assert_max_num_queries: object
) -> None:
    commitment = CommitmentFactory()
    AnswerFactory(contribution=ContributionFactory(commitment=commitment))
    client.get(commitment.get_absolute_url())
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(commitment.get_absolute_url())
    for _ in range(5):
        AnswerFactory(contribution=ContributionFactory(commitment=commitment))
        ContributionFactory(commitment=commitment)
    with CaptureQueriesContext(connection) as many:
        client.get(commitment.get_absolute_url())
    assert len(many) == len(few)


def test_a_question_sent_waits_for_moderation_and_the_author_is_thanked(client: Client) -> None:
    commitment = CommitmentFactory()
    response = _send(client, _form_url(commitment), display_name="Camille", email="Camille@Example.org")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("forums:thanks"))
    contribution = Contribution.objects.get()
    assert (contribution.state, contribution.kind, contribution.email) == ("pending", "question", "camille@example.org")
    thanks = client.get(response["Location"]).content.decode()
    assert commitment.get_absolute_url() in thanks
    assert "Où en est" not in client.get(commitment.get_absolute_url()).content.decode()


def test_the_thanks_page_never_links_elsewhere() -> None:
    client = Client()
    for target in ("//evil.example/", "https://evil.example/", "javascript:alert(1)"):
        response = client.get(reverse("forums:thanks"), {"retour": target})
        assert response.context["back"] == reverse("commitments:home")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"body": ""}, "body", "Ce champ est obligatoire."),
        ({"body": "x" * 4001}, "body", "4000"),
        ({"body": "<script>alert(1)</script>"}, "body", "HTML"),
        ({"body": "voir <a href='https://x.example'>ici</a>"}, "body", "HTML"),
        ({"body": "http://a.fr http://b.fr http://c.fr http://d.fr"}, "body", "liens"),
        ({"display_name": "<b>Moi</b>"}, "display_name", "HTML"),
        ({"display_name": "x" * 81}, "display_name", "80"),
        ({"email": "pas-une-adresse"}, "email", "adresse e-mail valide"),
        ({"kind": "opinion"}, "kind", "choix valide"),
    ],
)
def test_bad_input_is_refused_beside_its_field_and_nothing_is_stored(
    client: Client, fields: dict, field: str, message: str
) -> None:
    response = _send(client, _form_url(CommitmentFactory()), **fields)
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors[field])
    assert message in errors
    assert f'id="id_{field}-errors"' in response.content.decode() or field == "kind"
    assert not Contribution.objects.exists()


def test_plain_text_with_angle_brackets_is_accepted_and_shown_escaped(client: Client) -> None:
    commitment = CommitmentFactory()
    _send(client, _form_url(commitment), body="Est-ce que 3 < 5 et 7 > 2 ? <3", display_name="A & B")
    contribution = Contribution.objects.get()
    contribution.state, contribution.published_at = ContributionState.PUBLISHED, timezone.now()
    contribution.save()
    page = client.get(commitment.get_absolute_url()).content.decode()
    assert "Est-ce que 3 &lt; 5 et 7 &gt; 2 ? &lt;3" in page
    assert "A &amp; B" in page


def test_a_filled_trap_is_thanked_but_nothing_is_stored(client: Client) -> None:
    response = _send(client, _form_url(CommitmentFactory()), website="https://spam.example")
    assert response.status_code == 302
    assert not Contribution.objects.exists()


def test_the_form_needs_its_csrf_token() -> None:
    client = Client(enforce_csrf_checks=True)
    response = _send(client, _form_url(CommitmentFactory()))
    assert response.status_code == 403
    assert not Contribution.objects.exists()


def test_a_burst_is_throttled_with_a_dsfr_page_and_the_accepted_ones_are_kept(client: Client, settings) -> None:
    settings.CONTRIBUTION_RATE_COUNT = 3
    url = _form_url(CommitmentFactory())
    statuses = [_send(client, url, body=f"Question {n}").status_code for n in range(5)]
    assert statuses == [302, 302, 302, 429, 429]
    assert sorted(Contribution.objects.values_list("body", flat=True)) == ["Question 0", "Question 1", "Question 2"]
    refused = _send(client, url, body="Mon texte à garder")
    assert 0 < int(refused["Retry-After"]) <= settings.CONTRIBUTION_RATE_WINDOW
    page = refused.content.decode()
    assert "fr-alert" in page and "Mon texte à garder" in page
    # Another address is not held back by the first one's burst.
    assert _send(client, url, address="192.0.2.44").status_code == 302


def test_comments_are_taken_only_while_the_consultation_is_open(client: Client) -> None:
    today = timezone.localdate()
    plan = ActionPlanFactory(
        status=ActionPlanStatus.CONSULTATION,
        consultation_opens_on=today - datetime.timedelta(days=1),
        consultation_closes_on=today + datetime.timedelta(days=10),
    )
    commitment = CommitmentFactory(plan=plan)
    form = client.get(_form_url(commitment))
    assert [kind for kind, _ in form.context["form"].fields["kind"].choices] == ["question", "idea", "comment"]
    assert "est ouverte jusqu" in form.content.decode()
    assert _send(client, _form_url(commitment), kind="comment").status_code == 302

    plan.consultation_closes_on = today - datetime.timedelta(days=1)
    plan.consultation_opens_on = today - datetime.timedelta(days=20)
    plan.status = ActionPlanStatus.IN_PROGRESS
    plan.save()
    form = client.get(_form_url(commitment))
    assert [kind for kind, _ in form.context["form"].fields["kind"].choices] == ["question"]
    assert "close le" in form.content.decode()
    refused = _send(client, _form_url(commitment), kind="comment")
    assert refused.status_code == 200
    assert Contribution.objects.filter(kind=ContributionKind.COMMENT).count() == 1


def test_the_plan_page_says_when_its_consultation_opens(client: Client) -> None:
    opens = timezone.localdate() + datetime.timedelta(days=5)
    plan = ActionPlanFactory(status=ActionPlanStatus.CONSULTATION, consultation_opens_on=opens)
    page = client.get(plan.get_absolute_url()).content.decode()
    assert "consultation sur ce plan ouvre le" in page


def test_a_draft_plan_takes_no_contribution(client: Client) -> None:
    commitment = CommitmentFactory(plan=ActionPlanFactory(status=ActionPlanStatus.DRAFT))
    response = client.get(_form_url(commitment))
    assert not response.context["form"].fields["kind"].choices
    _send(client, _form_url(commitment))
    assert not Contribution.objects.exists()


def test_the_questions_page_gives_each_administrations_figures(client: Client) -> None:
    published = timezone.make_aware(datetime.datetime(2024, 1, 1, 9))
    commitment = CommitmentFactory()
    lead = CarrierFactory(commitment=commitment, role="lead").administration
    support = CarrierFactory(commitment=commitment, role="support").administration
    for days in (2, 4, 10):
        AnswerFactory(
            contribution=ContributionFactory(commitment=commitment, published_at=published),
            administration=lead,
            answered_at=published + datetime.timedelta(days=days),
        )
    ContributionFactory(commitment=commitment, published_at=published)  # awaiting
    ContributionFactory(commitment=commitment, kind=ContributionKind.IDEA)  # not a question
    ContributionFactory(commitment=commitment, state=ContributionState.PENDING)
    response = client.get(reverse("forums:questions"))
    rows = dict(response.context["administration_rows"])
    assert (rows[lead].received, rows[lead].answered, rows[lead].share_percent, rows[lead].median_days) == (
        4,
        3,
        75,
        4.0,
    )
    assert rows[support].received == 4
    page = response.content.decode()
    assert "75 %" in page and "4 jours" in page
    waiting = client.get(reverse("forums:questions"), {"etat": "en-attente"})
    assert len(waiting.context["page"].object_list) == 1
    filtered = client.get(reverse("forums:questions"), {"administration": lead.slug, "etat": "repondues"})
    assert len(filtered.context["page"].object_list) == 3


def _figures_page(client: Client, **query: str) -> object:
    response = client.get(reverse("forums:questions"), query)
    assert response.status_code == 200
    return response


def _links(response: object, anchor: str) -> list[str]:
    return re.findall(rf'href="\?([^"#]*)#{anchor}"', response.content.decode())


def test_the_figures_come_a_page_of_administrations_and_a_page_of_plans_at_a_time(client: Client, monkeypatch) -> None:
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    plans = {}
    for name, year in [("Agence C", 2016), ("Agence A", 2020), ("Agence B", 2018)]:
        carrier = CarrierFactory(
            administration__name=name, commitment__plan__start_year=year, commitment__plan__end_year=year + 2
        )
        plans[name] = str(carrier.commitment.plan)
        ContributionFactory(commitment=carrier.commitment)
    unasked = CarrierFactory(
        administration__name="Agence 0", commitment__plan__start_year=2024, commitment__plan__end_year=2026
    )
    ContributionFactory(commitment=unasked.commitment, state=ContributionState.PENDING)

    first = _figures_page(client)
    second = _figures_page(client, page_administrations="2", page_plans="2")
    past_the_end = _figures_page(client, page_administrations="9", page_plans="x")

    def shown(response: object, rows: str) -> list[str]:
        return [str(item) for item, _figures in response.context[rows]]

    assert shown(first, "administration_rows") == ["Agence A", "Agence B"]
    assert shown(second, "administration_rows") == ["Agence C"]
    assert shown(first, "plan_rows") == [plans["Agence A"], plans["Agence B"]]
    assert shown(second, "plan_rows") == [plans["Agence C"]]
    assert shown(past_the_end, "administration_rows") == [] and past_the_end.context["plans"].number == 1
    assert _links(first, "figures-administrations") == ["page_administrations=2"]
    assert _links(first, "figures-plans") == ["page_plans=2"]
    assert _links(second, "figures-administrations") == ["page_administrations=1&amp;page_plans=2"]
    assert _links(second, "figures-plans") == ["page_administrations=2&amp;page_plans=1"]


def test_the_questions_page_costs_the_same_queries_with_more_administrations_plans_and_questions(
    client: Client,
) -> None:
    def build(count: int) -> None:
        for _ in range(count):
            commitment = CarrierFactory().commitment
            CarrierFactory(commitment=commitment, role="support")
            AnswerFactory(contribution=ContributionFactory(commitment=commitment))
            ContributionFactory(commitment=commitment)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            _figures_page(client)
        return len(captured)

    build(1)
    few = queries()
    build(40)
    assert queries() == few


def test_the_administration_page_shows_its_figures(client: Client) -> None:
    commitment = CommitmentFactory()
    administration = CarrierFactory(commitment=commitment).administration
    AnswerFactory(contribution=ContributionFactory(commitment=commitment), administration=administration)
    ContributionFactory(commitment=commitment)
    page = client.get(administration.get_absolute_url()).content.decode()
    assert "2 questions reçues" in page and "50 %" in page


def test_the_privacy_page_says_what_is_kept_in_both_languages(client: Client, settings) -> None:
    settings.CONTRIBUTION_EMAIL_RETENTION_DAYS = 180
    french = client.get(reverse("commitments:privacy")).content.decode()
    assert "180 jours" in french and "adresse électronique" in french
    english = client.get("/en" + reverse("commitments:privacy")).content.decode()
    assert "180 days" in english


def test_the_contribution_page_is_never_cached_and_the_pages_that_show_contributions_are(client: Client) -> None:
    commitment = CommitmentFactory()
    assert "no-cache" in client.get(_form_url(commitment))["Cache-Control"]
    assert "public" in client.get(commitment.get_absolute_url())["Cache-Control"]
    assert "public" in client.get(reverse("forums:questions"))["Cache-Control"]
