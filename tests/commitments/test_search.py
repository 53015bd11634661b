"""The search of commitments: which texts it reads, how it counts, and the indexes that serve it on PostgreSQL."""

import datetime
import re

import pytest
from django.db import connection
from django.test import Client

from commitments import views
from commitments.models import Commitment, words_match
from indicators.models import Indicator
from tests.factories import CommitmentFactory, IndicatorFactory, MilestoneFactory

pytestmark = pytest.mark.django_db


def _found(text: str) -> set[str]:
    return set(Commitment.objects.matching(text).values_list("title", flat=True))


def test_a_search_finds_every_word_in_any_of_the_texts_whatever_its_case() -> None:
    CommitmentFactory(title="Ouvrir les algorithmes publics")
    CommitmentFactory(title="Par l'anglais", title_en="Open public ALGORITHMS")
    CommitmentFactory(title="Par le résumé", summary="Publier les algorithmes et leur code source")
    CommitmentFactory(title="Par la description", description="Un registre des algorithmes publics.")
    CommitmentFactory(title="Par l'identifiant", ogp_id="FR0099")
    CommitmentFactory(title="Le budget", summary="Publier le budget")

    assert _found("Algorithm") == {
        "Ouvrir les algorithmes publics",
        "Par l'anglais",
        "Par le résumé",
        "Par la description",
    }
    assert _found("ALGORITHMES code") == {"Par le résumé"}
    assert _found("fr0099") == {"Par l'identifiant"}
    assert _found("données") == set()


def test_a_word_is_read_as_it_is_written_never_as_a_pattern_nor_across_two_texts() -> None:
    CommitmentFactory(title="Atteindre 100% des collectivités")
    CommitmentFactory(title="Une dizaine d'agences")
    CommitmentFactory(title="Trans", summary="parence")

    assert _found("0%") == {"Atteindre 100% des collectivités"}
    assert _found("%") == {"Atteindre 100% des collectivités"}
    assert _found("_") == set()
    assert _found("transparence") == set()


def test_a_search_reads_the_texts_as_they_are_now() -> None:
    commitment = CommitmentFactory(title="Avant", description="Ancienne description")
    Commitment.objects.filter(pk=commitment.pk).update(description="Un registre des algorithmes")

    assert _found("algorithmes") == {"Avant"}
    assert _found("ancienne") == set()


def test_on_postgresql_capitals_with_accents_match_too() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite changes the case of ASCII letters only")
    CommitmentFactory(title="Ouvrir les données de santé")

    assert _found("DONNÉES") == {"Ouvrir les données de santé"}


def test_the_search_page_counts_its_commitments_up_to_a_limit_and_asks_for_more_words_past_it(
    client: Client, monkeypatch
) -> None:
    monkeypatch.setattr(views, "SEARCH_COUNT_LIMIT", 3)
    for number in range(1, 6):
        CommitmentFactory(title=f"Algorithmes publics, étape {number}")
    CommitmentFactory(title="Le budget")

    many = client.get("/en/recherche/", {"q": "algorithmes"})
    few = client.get("/en/recherche/", {"q": "étape 2"})
    last = client.get("/en/recherche/", {"q": "algorithmes", "page": "9"})

    assert many.context["page"].paginator.is_limited
    assert "More than 3 commitments: add words to narrow the search." in many.content.decode()
    assert len(many.context["page"]) == 4  # the pages stop at the limit and one more
    assert not few.context["page"].paginator.is_limited and "1 commitment<" in few.content.decode()
    assert last.context["page"].number == 1


def test_the_search_cards_say_which_commitments_are_late_and_ids_stay_unique(client: Client) -> None:
    # Two plans each with a commitment of the same slug: their progress bars must still have ids of their own.
    late = CommitmentFactory(title="Données en retard", slug="donnees")
    on_time = CommitmentFactory(title="Données à l'heure", slug="donnees")
    MilestoneFactory(commitment=late, due_date=datetime.date(2019, 12, 31))
    MilestoneFactory(commitment=on_time, due_date=datetime.date.today() + datetime.timedelta(days=30))

    page = client.get("/recherche/", {"q": "données"}).content.decode()
    cards = page.split('class="og-cards"')[1].split("<h2>")[0]
    ids = re.findall(r'id="([^"]+)"', page)

    assert cards.count("En retard") == 1 and cards.index("Données en retard") < cards.index("En retard")
    assert len(ids) == len(set(ids))


def test_deep_search_pages_list_each_commitment_once_in_order(client: Client, monkeypatch) -> None:
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for number in range(1, 8):
        CommitmentFactory(title=f"Algorithmes publics, étape {number}")
    every = [
        f"étape {c.title[-1]}"
        for c in Commitment.objects.matching("algorithmes").order_by("-plan__start_year", "plan__slug", "number")
    ]

    listed = []
    for number in (1, 2, 3, 4):
        page = client.get("/recherche/", {"q": "algorithmes", "page": number}).content.decode()
        listed += re.findall(r"étape \d", page.split('class="og-cards"')[1].split("<h2>")[0])

    assert listed == every


def test_on_postgresql_the_search_can_read_the_trigram_indexes() -> None:
    """With every row read, LIKE '%word%' costs the same for a word found once as for one found everywhere."""
    if connection.vendor != "postgresql":
        pytest.skip("the trigram indexes exist on PostgreSQL only")
    IndicatorFactory(commitment=CommitmentFactory(title="Ouvrir les algorithmes publics"), name="Algorithmes")
    with connection.cursor() as cursor:
        # A handful of rows is read faster without an index: forbid that, to see whether the index can serve.
        cursor.execute("SET LOCAL enable_seqscan = off")

    commitments = Commitment.objects.matching("algorithmes").order_by().explain()
    indicators = Indicator.objects.filter(words_match(["name", "description"], "algorithmes")).order_by().explain()

    assert "commitment_search_text_trgm" in commitments
    assert "indicator_name_trgm" in indicators and "indicator_description_trgm" in indicators
