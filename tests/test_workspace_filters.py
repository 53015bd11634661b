"""The workspace's filters on a relation past a few choices: the first ones and a box that searches the others.

An instance holding every OGP member's data has 600 plans and 1,500 administrations: listed whole, they made a
sidebar of 2,100 links (issue 9). Here the limit is lowered to 3."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from commitments.models import ActionPlan, Commitment
from opengov.admin_site import HeldRelationFilter
from tests.factories import ActionPlanFactory, CarrierFactory, CommitmentFactory, MembershipFactory

pytestmark = pytest.mark.django_db

COMMITMENTS = reverse("admin:commitments_commitment_changelist")
SHOWN = 3


@pytest.fixture(autouse=True)
def few_choices_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(HeldRelationFilter, "shown", SHOWN)


def _plans(*titles: str) -> list[ActionPlan]:
    """A plan of each title, with a commitment, so that the commitments' list holds it."""
    plans = [ActionPlanFactory(title=title) for title in titles]
    for plan in plans:
        CommitmentFactory(plan=plan)
    return plans


def _plan_filter(response: object) -> HeldRelationFilter:
    (spec,) = [spec for spec in response.context["cl"].filter_specs if getattr(spec, "field_path", None) == "plan"]
    return spec


def _offered(response: object) -> list[str]:
    return [str(choice["display"]) for choice in _plan_filter(response).choices(response.context["cl"])]


def test_a_short_relation_lists_every_choice_without_a_box(superuser_client: Client) -> None:
    _plans("Plan Alpha", "Plan Bravo", "Plan Charlie")

    response = superuser_client.get(COMMITMENTS)

    assert _offered(response) == ["Tous", "Plan Alpha", "Plan Bravo", "Plan Charlie"]
    assert not _plan_filter(response).searchable
    assert 'name="plan__search"' not in response.content.decode()


def test_a_long_relation_lists_the_first_choices_and_a_box_in_french(superuser_client: Client) -> None:
    _plans("Plan Alpha", "Plan Bravo", "Plan Charlie", "Plan Delta")

    response = superuser_client.get(COMMITMENTS)

    # In the plans' own order (their slugs here), as Django's filter lists them.
    assert _offered(response) == ["Tous", "Plan Alpha", "Plan Bravo", "Plan Charlie"]
    page = response.content.decode()
    assert '<label for="plan__search">Chercher dans ce filtre</label>' in page
    assert 'name="plan__search"' in page
    assert "Seuls les 3 premiers choix sont listés : cherchez pour trouver les autres." in page


def test_words_narrow_the_choices_not_the_list(superuser_client: Client) -> None:
    _plans("Plan Alpha", "Plan Bravo", "Plan Charlie", "Plan Delta", "Plan Delta bis")

    response = superuser_client.get(COMMITMENTS, {"plan__search": "  delta "})

    assert response.status_code == 200
    assert _offered(response) == ["Tous", "Plan Delta", "Plan Delta bis"]
    assert response.context["cl"].result_count == Commitment.objects.count() == 5
    page = response.content.decode()
    assert 'value="delta"' in page
    assert "Seuls les" not in page  # every match is listed


def test_words_that_match_nothing_keep_the_box_and_say_so(superuser_client: Client) -> None:
    _plans("Plan Alpha", "Plan Bravo", "Plan Charlie", "Plan Delta")

    response = superuser_client.get(COMMITMENTS, {"plan__search": "introuvable"})

    assert _offered(response) == ["Tous"]
    page = response.content.decode()
    assert 'name="plan__search"' in page
    assert "Aucun choix ne correspond à ces mots." in page
    assert response.context["cl"].result_count == 4


def test_the_chosen_one_is_listed_first_whatever_the_words(superuser_client: Client) -> None:
    *_, last = _plans("Plan Alpha", "Plan Bravo", "Plan Charlie", "Plan Zulu")

    response = superuser_client.get(COMMITMENTS, {"plan__id__exact": last.pk, "plan__search": "alpha"})

    assert _offered(response) == ["Tous", "Plan Zulu", "Plan Alpha"]
    selected = [c for c in _plan_filter(response).choices(response.context["cl"]) if c["selected"]]
    assert [str(choice["display"]) for choice in selected] == ["Plan Zulu"]
    assert [commitment.plan for commitment in response.context["cl"].result_list] == [last]


def test_the_box_sends_the_lists_other_parameters_again(superuser_client: Client) -> None:
    plans = _plans("Plan Alpha", "Plan Bravo", "Plan Charlie", "Plan Delta")

    response = superuser_client.get(
        COMMITMENTS, {"q": "Engagement", "o": "2", "plan__id__exact": plans[0].pk, "plan__search": "b", "p": "1"}
    )

    hidden = _plan_filter(response).hidden_fields
    assert sorted(hidden) == sorted([("q", "Engagement"), ("o", "2"), ("plan__id__exact", str(plans[0].pk))])


def test_overlong_words_are_cut_not_refused(superuser_client: Client) -> None:
    _plans("Plan Alpha", "Plan Bravo", "Plan Charlie", "Plan Delta")

    response = superuser_client.get(COMMITMENTS, {"plan__search": "d" * 500})

    assert response.status_code == 200
    assert _plan_filter(response).words == "d" * 100


def test_a_chosen_key_that_is_not_one_gets_the_admins_answer_not_an_error(superuser_client: Client) -> None:
    _plans("Plan Alpha", "Plan Bravo", "Plan Charlie", "Plan Delta")

    response = superuser_client.get(COMMITMENTS, {"plan__id__exact": "abc", "plan__search": "a"})

    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_words_cost_no_more_queries(superuser_client: Client) -> None:
    chosen = _plans("Plan Alpha", "Plan Bravo", "Plan Charlie", "Plan Delta")[0]
    superuser_client.get(COMMITMENTS)
    with CaptureQueriesContext(connection) as plain:
        superuser_client.get(COMMITMENTS, {"plan__id__exact": chosen.pk})

    with CaptureQueriesContext(connection) as searched:
        superuser_client.get(COMMITMENTS, {"plan__id__exact": chosen.pk, "plan__search": "delta"})

    assert len(searched) == len(plain)


def test_an_editors_search_finds_only_what_their_list_holds(client: Client) -> None:
    editor = MembershipFactory(user__is_staff=True)
    own = [
        CarrierFactory(administration=editor.administration, commitment__plan__title=f"Plan Delta {n}") for n in "1234"
    ]
    others = _plans("Plan Delta autre")
    client.force_login(editor.user)

    response = client.get(COMMITMENTS, {"plan__search": "delta"})

    offered = _offered(response)
    assert len(offered) == 1 + SHOWN and set(offered[1:]) <= {carrier.commitment.plan.title for carrier in own}
    assert others[0].title not in offered
    # Words of another administration's plan find nothing, not even its name.
    elsewhere = client.get(COMMITMENTS, {"plan__search": "autre"})
    assert _offered(elsewhere) == ["Tous"]
