import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from commitments import services
from commitments.models import ActionPlan, Commitment, CommitmentCompletion
from commitments.sitemaps import SITEMAPS
from commitments.timeline import latest_changes
from forums.models import Forum
from indicators import services as indicator_services
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


def _page(client: Client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, url
    return response.content.decode()


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200, url
    return len(queries)


def _fill_plan(plan: ActionPlan, count: int, administration: object) -> None:
    """Commitments with everything a page shows: axes, carriers, milestones, indicators, values, history."""
    axes = [AxisFactory(plan=plan, number=n) for n in (1, 2)]
    for index in range(count):
        commitment = CommitmentFactory(plan=plan, axis=axes[index % 2], number=index + 1)
        CarrierFactory(commitment=commitment, administration=administration)
        CarrierFactory(commitment=commitment, role="support")
        MilestoneFactory(commitment=commitment, due_date=datetime.date(2019, 1, 1))
        indicator = IndicatorFactory(commitment=commitment)
        IndicatorValueFactory(indicator=indicator)
        services.set_completion(
            commitment=commitment, completion=CommitmentCompletion.LIMITED, progress_note="", by=None, reason="test"
        )


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/plans/{plan}/",
        "/plans/{plan}/?axis=2&late=yes&q=Engagement",
        "/plans/{plan}/engagements/1/",
        "/plans/{plan}/engagements/1/historique/",
        "/administrations/{administration}/",
        "/mises-a-jour/",
        "/mises-a-jour/atom.xml",
        "/recherche/?q=Engagement",
        "/en/plans/{plan}/",
    ],
)
def test_pages_cost_the_same_queries_for_2_or_50_commitments(client: Client, url: str) -> None:
    counts = []
    for size in (2, 50):
        plan = ActionPlanFactory()
        administration = AdministrationFactory()
        _fill_plan(plan, size, administration)
        counts.append(_queries(client, url.format(plan=plan.slug, administration=administration.slug)))

    assert counts[0] == counts[1], counts


def test_home_shows_the_plans_their_progress_and_the_latest_updates(client: Client, reference_data: None) -> None:
    page = _page(client, "/")

    assert '<html lang="fr"' in page
    assert "Plan d&#x27;action national pour la France 2018-2020" in page
    assert "2018\u20132020" in page  # years are not grouped like amounts
    assert "non renseigné" in page and "0 %" not in page
    assert "Chargement des données de référence" in page
    assert "<title>" in page and 'name="description"' in page


def test_the_home_pages_list_every_plan_once_latest_first(client: Client, db: None) -> None:
    # 26 plans, some of the same years and titles: the pages (12 a page, the last found by keys first) must
    # still list each once, in the order of the years, then the titles.
    plans = [ActionPlanFactory(start_year=2010 + n % 5, title=f"Plan {n % 7}") for n in range(26)]
    expected = [p.slug for p in sorted(plans, key=lambda p: (-p.start_year, p.title, p.pk))]

    listed = []
    for number in (1, 2, 3):
        page = _page(client, f"/?page={number}").split("<main")[1]
        listed += [slug for slug in re.findall(r'href="/plans/([^/"]+)/"', page) if slug not in listed]

    assert listed == expected


def test_home_announces_the_next_forum(client: Client, db: None) -> None:
    ForumFactory(date=datetime.date.today() + datetime.timedelta(days=10), title="Forum à venir", place="Paris")

    assert "Forum à venir" in _page(client, "/")


def test_a_plan_lists_its_axes_and_commitments(client: Client, reference_data: None) -> None:
    page = _page(client, "/plans/2018-2020/")

    assert page.count('href="/plans/2018-2020/engagements/') == 21
    assert "Ouverture des ressources numériques et innovation ouverte" in page
    assert 'aria-current="page"' in page  # breadcrumbs


def test_plan_filters_combine_and_live_in_the_url(client: Client, reference_data: None) -> None:
    axis_two = set(Commitment.objects.filter(plan__slug="2018-2020", axis__number=2).values_list("number", flat=True))
    hatvp = "haute-autorite-transparence-vie-publique"

    by_axis = _page(client, "/plans/2018-2020/?axis=2")
    both = _page(client, f"/plans/2018-2020/?axis=5&administration={hatvp}")
    text = _page(client, "/plans/2018-2020/?q=algorithmes")

    listed = {int(n) for n in re.findall(r'href="/plans/2018-2020/engagements/(\d+)/"', by_axis)}
    assert listed == axis_two
    assert set(re.findall(r'href="/plans/2018-2020/engagements/(\d+)/"', both)) == {"20", "21"}
    assert set(re.findall(r'href="/plans/2018-2020/engagements/(\d+)/"', text)) == {"6"}
    assert '<option value="2" selected>' in by_axis


def test_late_and_completion_filters(client: Client, db: None) -> None:
    plan = ActionPlanFactory(slug="plan-test")
    late = CommitmentFactory(plan=plan, number=1)
    MilestoneFactory(commitment=late, due_date=datetime.date(2019, 1, 1))
    done = CommitmentFactory(plan=plan, number=2, completion=CommitmentCompletion.COMPLETE)

    late_page = _page(client, "/plans/plan-test/?late=yes")
    complete_page = _page(client, "/plans/plan-test/?completion=complete&late=no")

    assert late.get_absolute_url() in late_page and done.get_absolute_url() not in late_page
    assert done.get_absolute_url() in complete_page and late.get_absolute_url() not in complete_page


def test_a_malformed_filter_is_ignored_with_a_visible_notice(client: Client, reference_data: None) -> None:
    page = _page(client, "/plans/2018-2020/?axis=abc&completion=%3Cscript%3E&late=maybe")

    assert "Certains filtres ont été ignorés" in page
    assert page.count('href="/plans/2018-2020/engagements/') == 21
    assert "<script>" not in page.split("</header>")[1].split("<footer")[0]


def test_a_commitment_page_shows_everything_about_it(client: Client, reference_data: None) -> None:
    commitment = Commitment.objects.get(plan__slug="2018-2020", number=2)
    services.add_milestone(commitment=commitment, title="Jalon passé", due_date=datetime.date(2019, 1, 1), by=None)
    indicator = IndicatorFactory(commitment=commitment, name="Contrats publiés")
    indicator_services.record_value(
        indicator=indicator, date=datetime.date(2020, 1, 1), value=Decimal("12345.6"), by=None
    )

    page = _page(client, "/plans/2018-2020/engagements/2/")

    assert "Accroître la transparence de la commande publique" in page
    assert "https://www.opengovpartnership.org/members/france/commitments/FR0031/" in page
    assert "Ministère de l&#x27;Économie et des Finances — Pilote" in page
    assert "Ville de Rennes — Contributeur" in page
    assert "En retard" in page and "Jalon passé" in page
    assert "12\u202f345,6" in page or "12\xa0345,6" in page
    assert "Transparence de la commande publique, des données aux politiques d" in page  # forum #5
    assert "/plans/2015-2017/engagements/2/" in page  # predecessor
    assert "Avancement" in page and "0 %" in page  # one milestone, not done: a real 0 %, with its rule
    assert "Part pondérée des jalons réalisés" in page


def test_a_commitment_page_says_when_and_by_whom_it_was_updated(client: Client, db: None) -> None:
    carrier = CarrierFactory(administration=AdministrationFactory(name="Direction interministérielle du numérique"))
    member = MembershipFactory(administration=carrier.administration)
    services.set_completion(
        commitment=carrier.commitment, completion=CommitmentCompletion.LIMITED, progress_note="", by=member.user
    )

    page = _page(client, carrier.commitment.get_absolute_url())

    assert "par Direction interministérielle du numérique" in page


def test_the_predecessor_links_to_its_successor(client: Client, reference_data: None) -> None:
    page = _page(client, "/plans/2015-2017/engagements/2/")

    assert "/plans/2018-2020/engagements/2/" in page


def test_the_history_shows_old_and_new_values_who_and_why(client: Client, db: None) -> None:
    carrier = CarrierFactory()
    member = MembershipFactory(administration=carrier.administration)
    services.set_completion(
        commitment=carrier.commitment,
        completion=CommitmentCompletion.SUBSTANTIAL,
        progress_note="",
        by=member.user,
        reason="Bilan annuel",
    )

    page = _page(client, f"/plans/{carrier.commitment.plan.slug}/engagements/{carrier.commitment.number}/historique/")

    assert "<del>Non évalué</del> → <ins>Substantiel</ins>" in page
    assert "historique/" not in page.split("<main")[1]  # on its own history, changes do not link back to it
    assert "Bilan annuel" in page
    assert carrier.administration.name in page


def test_an_administration_page_lists_what_it_carries(client: Client, reference_data: None) -> None:
    page = _page(client, "/administrations/haute-autorite-transparence-vie-publique/")

    assert "Haute Autorité pour la transparence de la vie publique (HATVP)" in page
    assert "/plans/2018-2020/engagements/20/" in page and "/plans/2015-2017/engagements/6/" in page


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/plans/2018-2020/",
        "/plans/2018-2020/engagements/20/",
        "/plans/2018-2020/engagements/20/historique/",
        "/administrations/haute-autorite-transparence-vie-publique/",
        "/mises-a-jour/",
        "/recherche/?q=donn%C3%A9es",
        "/forums/",
        "/questions/",
    ],
)
def test_a_page_s_title_and_description_are_plain_text(client: Client, reference_data: None, path: str) -> None:
    page = _page(client, path)
    title = page.split("<title>")[1].split("</title>")[0]
    description = re.search(r'<meta name="description" content="([^"]*)"', page).group(1)

    assert title.strip() and "<" not in title and "&lt;" not in title, title
    assert description.strip() and "&lt;" not in description, description


def test_updates_page_and_atom_feed(client: Client, db: None) -> None:
    commitment = CommitmentFactory(title="Ouvrir les données")
    services.set_completion(
        commitment=commitment, completion=CommitmentCompletion.COMPLETE, progress_note="", by=None, reason="Terminé"
    )

    page = _page(client, "/mises-a-jour/")
    feed = client.get("/mises-a-jour/atom.xml")

    assert "Terminé" in page and "Ouvrir les données" not in page.split("<main")[0]
    assert feed["Content-Type"].startswith("application/atom+xml")
    assert b"<feed" in feed.content and b"Termin" in feed.content


def test_the_latest_changes_read_only_what_they_show(db: None) -> None:
    carrier = CarrierFactory(administration__name_en="Prime Minister")
    commitment = carrier.commitment
    Commitment.objects.filter(pk=commitment.pk).update(sources=["https://example.org/source"], ogp_values=["Access"])
    member = MembershipFactory(administration=carrier.administration)
    services.set_completion(
        commitment=commitment, completion=CommitmentCompletion.LIMITED, progress_note="", by=member.user, reason="Bilan"
    )

    with CaptureQueriesContext(connection) as queries:
        changes = latest_changes()
    read = " ".join(query["sql"] for query in queries)
    # What the pages, the feed and the admin write of them, without a query more.
    with CaptureQueriesContext(connection) as more:
        shown = [
            (c.commitment.plan.slug, c.commitment.number, str(c.commitment), str(c.administration), c.subject)
            for c in changes
        ]
        english = [c.administration.name_en for c in changes if c.administration]

    assert len(more) == 0, [query["sql"] for query in more]
    assert (commitment.plan.slug, commitment.number) in {row[:2] for row in shown} and "Prime Minister" in english
    # Lists and sources are never shown in a change: not read.
    assert "ogp_values" not in read and "sources" not in read and "other_ogp_ids" not in read


def test_search_finds_plans_commitments_and_indicators_and_escapes_the_query(
    client: Client, reference_data: None
) -> None:
    commitment = Commitment.objects.get(ogp_id="FR0035")
    IndicatorFactory(commitment=commitment, name="Algorithmes publiés")

    page = _page(client, "/recherche/?q=algorithmes")
    hostile = _page(client, "/recherche/?q=%3Cscript%3Ealert(1)%3C/script%3E")

    assert "/plans/2018-2020/engagements/6/" in page
    assert "Algorithmes publiés" in page
    assert "<script>alert(1)" not in hostile and "&lt;script&gt;alert(1)" in hostile


def test_prose_pages_exist_in_both_languages(client: Client, db: None) -> None:
    for path, french, english in [
        ("/donnees-et-api/", "Comment l'avancement est calculé", "How progress is calculated"),
        ("/accessibilite/", "partiellement conforme", "partially compliant"),
        ("/mentions-legales/", "Licence Ouverte 2.0", "Licence Ouverte 2.0"),
    ]:
        assert french in _page(client, path)
        assert english in _page(client, f"/en{path}")


def test_every_footer_links_to_the_accessibility_statement(client: Client, reference_data: None) -> None:
    for url in ["/", "/plans/2015-2017/", "/recherche/", "/en/"]:
        assert 'href="/accessibilite/"' in _page(client, url) or 'href="/en/accessibilite/"' in _page(client, url)


def test_english_pages_use_english_content_where_the_data_has_it(client: Client, reference_data: None) -> None:
    page = _page(client, "/en/plans/2018-2020/engagements/4/")

    assert '<html lang="en"' in page
    assert "Expand Open Data" in page
    assert "not reported" in page
    # The language switch keeps the page.
    assert 'href="/plans/2018-2020/engagements/4/" hreflang="fr"' in page


def test_the_language_switch_keeps_the_page_and_its_filters(client: Client, reference_data: None) -> None:
    page = _page(client, "/plans/2018-2020/?axis=2")

    assert 'href="/en/plans/2018-2020/?axis=2" hreflang="en"' in page


def test_an_unknown_page_is_a_dsfr_404(client: Client, db: None) -> None:
    page = _page(client, "/plans/1999-2001/", status=404)
    missing_commitment = _page(client, "/plans/1999-2001/engagements/99/", status=404)

    assert "Page non trouvée" in page and "fr-header" in page
    assert "Erreur 404" in missing_commitment


def test_public_pages_set_no_cookie_and_can_be_cached(client: Client, reference_data: None) -> None:
    for url in ["/", "/plans/2018-2020/", "/plans/2018-2020/engagements/4/", "/en/"]:
        response = client.get(url)
        assert not response.cookies, url
        assert "max-age" in response["Cache-Control"] and "public" in response["Cache-Control"], url
        again = client.get(url, headers={"if-none-match": response["ETag"]})
        assert again.status_code == 304, url
        assert again.content == b""


def test_sitemap_lists_every_page_in_both_languages_and_robots_points_to_it(
    client: Client, reference_data: None
) -> None:
    index = _page(client, "/sitemap.xml")
    robots = _page(client, "/robots.txt")
    # The index names the files of each section (one per range of 500 keys); together they list every page.
    files = re.findall(r"<loc>http://testserver(/sitemap-([a-z]+)\.xml(?:\?p=\d+)?)</loc>", index)
    assert {section for _, section in files} == set(SITEMAPS)
    files = [path for path, _ in files]
    sitemap = "".join(_page(client, path) for path in files)

    assert "/plans/2018-2020/engagements/21/" in sitemap
    assert "/en/plans/2018-2020/engagements/21/" in sitemap
    assert 'hreflang="en"' in sitemap
    assert "/forums/</loc>" in sitemap and "/questions/</loc>" in sitemap and "/confidentialite/</loc>" in sitemap
    assert Forum.objects.first().get_absolute_url() + "</loc>" in sitemap
    assert "Sitemap: http://testserver/sitemap.xml" in robots and "Disallow: /admin/" in robots


def test_the_500_page_renders_without_a_request_and_without_a_stack_trace() -> None:
    from django.template.loader import render_to_string

    page = render_to_string("500.html")

    assert "Erreur 500" in page and "Unexpected error" in page and "Traceback" not in page


def test_a_page_is_revalidated_by_date_until_the_data_changes(client: Client, db: None, monkeypatch) -> None:
    monkeypatch.setattr("opengov.middleware.CODE_CHANGED_AT", timezone.now() - datetime.timedelta(days=1))
    commitment = CommitmentFactory()
    services.set_completion(commitment=commitment, completion="limited", progress_note="", by=None)
    # HTTP dates count whole seconds: the first state must lie in an earlier second than the change.
    for model in (ActionPlan, Commitment):
        model.history.update(history_date=timezone.now() - datetime.timedelta(seconds=5))
    since = client.get("/")["Last-Modified"]

    assert client.get("/", headers={"if-modified-since": since}).status_code == 304

    services.set_completion(commitment=commitment, completion="complete", progress_note="", by=None)
    assert client.get("/", headers={"if-modified-since": since}).status_code == 200


def test_english_pages_name_administrations_in_english_where_known(client: Client, reference_data: None) -> None:
    page = _page(client, "/en/plans/2018-2020/engagements/20/")
    administration = _page(client, "/en/administrations/haute-autorite-transparence-vie-publique/")

    assert "High Authority for Transparency in Public Life" in page
    assert "<h1>High Authority for Transparency in Public Life (HATVP)</h1>" in administration
    assert '<span lang="fr">Haute Autorité pour la transparence de la vie publique</span>' in administration
