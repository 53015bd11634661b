"""The rows of the forums' pages written in Python (forums.cards): the same HTML the templates wrote, escaped."""

import datetime
from decimal import Decimal

import pytest
from django.utils import translation

from forums import cards
from forums.accountability import Figures
from forums.models import Contribution, ContributionKind
from tests.factories import (
    ActionPlanFactory,
    AdministrationFactory,
    AnswerFactory,
    CommitmentFactory,
    ContributionFactory,
    ForumFactory,
    noon_days_ago,
)

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


def _shown(contribution: Contribution) -> Contribution:
    return Contribution.objects.for_display().get(pk=contribution.pk)


@pytest.fixture
def answered() -> Contribution:
    # 22:30 UTC on 30 June is 1 July in Paris: the day written is the site's.
    question = ContributionFactory(
        display_name="Camille <b>",
        body="Où en est-on ?\nEt l'année « prochaine » <i>?</i>",
        published_at=datetime.datetime(2024, 6, 30, 22, 30, tzinfo=UTC),
    )
    AnswerFactory(
        contribution=question,
        administration=AdministrationFactory(name="Ministère d'État & co"),
        body="Publié.\nVoir <a>.",
        answered_at=datetime.datetime(2024, 7, 3, 9, tzinfo=UTC),
        updated_at=datetime.datetime(2024, 7, 5, 9, tzinfo=UTC),
    )
    return _shown(question)


def test_a_card_writes_the_question_its_author_its_answer_and_its_change_escaped(answered: Contribution) -> None:
    key = answered.pk

    assert cards.contribution_card(answered) == (
        f'<article class="og-contribution fr-mb-3w" id="contribution-{key}" '
        f'aria-labelledby="contribution-{key}-title">\n'
        f'  <h3 class="fr-h6 fr-mb-1v" id="contribution-{key}-title">'
        '<span class="fr-badge fr-badge--sm fr-badge--no-icon fr-badge--blue-ecume">Question</span>\n'
        "    de Camille &lt;b&gt;, publiée le 1 juillet 2024</h3>\n"
        '  <p class="og-contribution__body">Où en est-on ?<br>Et l&#x27;année « prochaine » &lt;i&gt;?&lt;/i&gt;</p>\n'
        '  <div class="og-answer fr-callout fr-callout--blue-ecume fr-py-2w">\n'
        '    <p class="fr-text--bold fr-mb-1w">Répondue le 3 juillet 2024 par Ministère d&#x27;État &amp; co'
        ' <span class="fr-text--xs">(modifiée le 5 juillet 2024)</span></p>\n'
        '    <p class="fr-mb-0">Publié.<br>Voir &lt;a&gt;.</p>\n'
        "  </div>\n"
        "</article>\n"
    )


def test_a_card_is_written_in_the_page_s_language_then_in_french_again(answered: Contribution) -> None:
    with translation.override("en"):
        english = cards.contribution_card(answered)
    french = cards.contribution_card(answered)

    assert "from Camille &lt;b&gt;, published on July 1, 2024</h3>" in english
    assert "Answered on July 3, 2024 by Ministère d&#x27;État &amp; co" in english
    assert "(changed on July 5, 2024)" in english
    assert "juillet" not in english
    assert "de Camille &lt;b&gt;, publiée le 1 juillet 2024</h3>" in french


def test_a_card_without_answer_says_how_many_days_the_question_has_waited() -> None:
    yesterday = _shown(ContributionFactory(display_name="", published_at=noon_days_ago(1)))
    long_ago = _shown(ContributionFactory(published_at=noon_days_ago(1200)))
    idea = _shown(ContributionFactory(kind=ContributionKind.IDEA, published_at=noon_days_ago(9)))

    assert "Question</span>\n    d'un contributeur anonyme, publiée le " in cards.contribution_card(yesterday)
    assert '<p class="fr-badge fr-badge--warning fr-badge--no-icon">En attente de réponse depuis 1 jour</p>' in (
        cards.contribution_card(yesterday)
    )
    # A count is written as the pages write numbers: 1 200, with the French thousands separator.
    assert "En attente de réponse depuis 1\xa0200 jours</p>" in cards.contribution_card(long_ago)
    assert '<span class="fr-badge fr-badge--sm fr-badge--no-icon">Idée</span>' in cards.contribution_card(idea)
    assert "En attente" not in cards.contribution_card(idea)
    with translation.override("en"):
        assert "Awaiting an answer for 1 day</p>" in cards.contribution_card(yesterday)
        assert "from an anonymous contributor, published on " in cards.contribution_card(yesterday)


def test_a_question_s_subject_links_to_its_commitment_or_its_forum() -> None:
    commitment = CommitmentFactory(plan=ActionPlanFactory(slug="2018-2020"), number=7)
    on_commitment = _shown(ContributionFactory(commitment=commitment))
    on_forum = _shown(ContributionFactory(commitment=None, forum=ForumFactory(title="Forum <Open> d'État")))

    assert cards.contribution_subject(on_commitment) == (
        f'<p class="fr-text--sm fr-mb-0"><a href="/plans/2018-2020/engagements/7/#contribution-{on_commitment.pk}">'
        "2018-2020 — Engagement 7</a></p>\n"
    )
    assert cards.contribution_subject(on_forum) == (
        f'<p class="fr-text--sm fr-mb-0"><a href="{on_forum.forum.get_absolute_url()}#contribution-{on_forum.pk}">'
        f"Open d&#x27;État n° {on_forum.forum.number} — Forum &lt;Open&gt; d&#x27;État</a></p>\n"
    )


def test_a_row_of_figures_names_its_subject_in_the_page_s_language_with_its_figures() -> None:
    administration = AdministrationFactory(name="Ministère <A>", name_en="Ministry <A>", slug="ministere-a")
    figures = Figures(received=1234, answered=617, median_delay=datetime.timedelta(days=2, hours=12))

    assert cards.figures_row(administration, figures, "name") == (
        '<tr><th scope="row"><a href="/administrations/ministere-a/">Ministère &lt;A&gt;</a></th>'
        "<td>1\xa0234</td><td>617</td><td>50 %</td><td>2,5 jours</td></tr>\n"
    )
    with translation.override("en"):
        assert cards.figures_row(administration, figures, "name") == (
            '<tr><th scope="row"><a href="/en/administrations/ministere-a/">Ministry &lt;A&gt;</a></th>'
            "<td>1,234</td><td>617</td><td>50 %</td><td>2.5 days</td></tr>\n"
        )
    # No question yet (one unpublished between the page's two queries): dashes, not "None".
    assert "<td>0</td><td>0</td><td>— %</td><td>—</td>" in cards.figures_row(administration, Figures(), "name")
    assert Figures(median_delay=datetime.timedelta(hours=36)).median_days == Decimal("1.5")


def test_a_forum_row_says_when_which_where_and_how_many_contributions() -> None:
    forum = ForumFactory(
        number=12,
        title="Données <ouvertes>",
        date=datetime.date(2019, 3, 5),
        start_time=datetime.time(14, 30),
        theme="T" * 200,
        place="",
    )
    forum.contribution_count = 1500

    assert cards.forum_row(forum) == (
        "    <tr>\n"
        "      <td>5 mars 2019, 14:30</td>\n"
        f'      <td><a href="/forums/{forum.pk}/">Open d&#x27;État n° 12 — Données &lt;ouvertes&gt;</a>'
        f'<br><span class="fr-text--sm">{"T" * 139}…</span></td>\n'
        "      <td>—</td>\n"
        "      <td>1\xa0500</td>\n"
        "    </tr>\n"
    )
    with translation.override("en"):
        assert "<td>March 5, 2019, 2:30 p.m.</td>" in cards.forum_row(forum)
    forum.start_time, forum.theme, forum.place, forum.contribution_count = None, "", "Paris & Lyon", 0
    assert "<td>5 mars 2019</td>" in cards.forum_row(forum)
    assert "</a></td>\n      <td>Paris &amp; Lyon</td>\n      <td>0</td>" in cards.forum_row(forum)
