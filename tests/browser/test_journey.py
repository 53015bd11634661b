"""A reader's journey through the public pages in a real browser, checked with axe-core at each step."""

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import resolve
from django.utils import translation
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from commitments.models import Commitment
from commitments.reference_data import load_reference_data
from forums.models import Forum
from tests.browser.accessibility import assert_no_axe_violations
from tests.browser.conftest import ExternalRequests, Screenshots
from tests.factories import AnswerFactory, ContributionFactory, IndicatorFactory, IndicatorValueFactory

pytestmark = pytest.mark.browser

PLAN = "2018-2020"
NOT_FOUND = "/page-qui-n-existe-pas/"
PAGES = [
    "/",
    "/plans/2018-2020/",
    "/plans/2018-2020/engagements/4/",
    "/plans/2018-2020/engagements/4/historique/",
    "/administrations/haute-autorite-transparence-vie-publique/",
    "/mises-a-jour/",
    "/recherche/?q=transparence",
    "/donnees-et-api/",
    "/accessibilite/",
    "/mentions-legales/",
    "/forums/",
    "FORUM",
    "/questions/",
    "/confidentialite/",
    "/plans/2018-2020/engagements/4/contribuer/",
    NOT_FOUND,
    "/en/",
    "/en/plans/2015-2017/",
    "/en/questions/",
]
# Stands for the page of a forum of the reference data, whose identifier is known once it is loaded.
FORUM = "FORUM"


@dataclass(frozen=True)
class Site:
    axis_2_numbers: frozenset[int]
    forum_url: str


@pytest.fixture(autouse=True)
def site(transactional_db: None) -> Site:
    """The real reference data, plus an indicator with three values on 2018-2020's commitment 4.

    Autouse, so that it runs before the browser starts: the database is out of reach from the test after that.
    """
    load_reference_data()
    commitment = Commitment.objects.get(plan__slug=PLAN, number=4)
    indicator = IndicatorFactory(
        commitment=commitment,
        name="Jeux de données publiés",
        unit="jeux de données",
        baseline_value=Decimal(0),
        target_value=Decimal(100),
    )
    for date, value in [
        (datetime.date(2018, 6, 30), 20),
        (datetime.date(2019, 6, 30), 45),
        (datetime.date(2020, 6, 30), 70),
    ]:
        IndicatorValueFactory(indicator=indicator, date=date, value=Decimal(value))
    numbers = Commitment.objects.filter(plan__slug=PLAN, axis__number=2).values_list("number", flat=True)
    # A forum with the commitment discussed, and a question on both answered: the markup of the dialogue.
    forum = Forum.objects.filter(commitments__isnull=False).order_by("date").first() or Forum.objects.first()
    AnswerFactory(
        contribution=ContributionFactory(commitment=commitment, forum=forum, display_name="Camille"),
        administration=commitment.carriers.first().administration,
    )
    ContributionFactory(commitment=commitment, body="Une question qui attend sa réponse.")
    return Site(axis_2_numbers=frozenset(numbers), forum_url=forum.get_absolute_url())


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


def html_lang(page: Page) -> str | None:
    return page.locator("html").get_attribute("lang")


def status_of(page: Page) -> int:
    """The HTTP status of the document now shown."""
    return page.evaluate("performance.getEntriesByType('navigation')[0].responseStatus")


def click_through(page: Page, selector: str, arrived: Callable[[str], bool], step: str) -> None:
    """Click the first element matching the selector and wait for the page it leads to, which must answer 200."""
    target = page.locator(selector)
    assert target.count(), f"{step}: nothing matches {selector!r} on {page.url}"
    before = page.url
    target.first.click()
    try:
        page.wait_for_url(lambda url: url != before and arrived(url))
    except PlaywrightTimeoutError:
        pytest.fail(f"{step}: clicking {selector!r} on {before} did not lead to the expected page (now on {page.url})")
    assert status_of(page) == 200, f"{step}: {page.url} answered {status_of(page)}"


def same_view(french_path: str, english_path: str) -> bool:
    """Whether the two paths show the same page, each in its language (URLs may be translated)."""
    with translation.override("fr"):
        french = resolve(french_path)
    with translation.override("en"):
        english = resolve(english_path)
    return (french.view_name, french.kwargs) == (english.view_name, english.kwargs)


def test_journey(page: Page, site: Site, external_requests: ExternalRequests, screenshots: Screenshots) -> None:
    def checkpoint(step: str) -> None:
        screenshots.take(page, step)
        external_requests.assert_none(step)
        assert_no_axe_violations(page, where=step)

    # 1. The home page, in French.
    response = page.goto("/")
    assert response is not None and response.status == 200, f"/ answered {response and response.status}"
    assert html_lang(page) == "fr", f'the home page has <html lang="{html_lang(page)}">, expected "fr"'
    checkpoint("home")

    # 2. The 2018-2020 plan, from the home page.
    plan_path = f"/plans/{PLAN}/"
    click_through(page, f'a[href$="{plan_path}"]', lambda url: urlsplit(url).path.endswith(plan_path), "plan")
    checkpoint("plan")

    # 3. Only axis 2, through the plan's filter form.
    form = page.locator('form:has(select[name="axis"])')
    assert form.count(), f'plan filter: no form with a <select name="axis"> on {page.url}'
    form.first.locator('select[name="axis"]').select_option("2")
    click_through(
        page,
        'form:has(select[name="axis"]) button[type="submit"]',
        lambda url: parse_qs(urlsplit(url).query).get("axis") == ["2"],
        "plan filter",
    )
    hrefs = page.locator(f'main a[href*="/plans/{PLAN}/engagements/"]').evaluate_all(
        "links => links.map(link => link.getAttribute('href'))"
    )
    listed = {int(m.group(1)) for href in hrefs if (m := re.search(rf"/plans/{PLAN}/engagements/(\d+)/", href))}
    assert listed, f"plan filter: no commitment listed in <main> on {page.url}"
    assert listed == site.axis_2_numbers, (
        f"plan filter: axis 2 holds commitments {sorted(site.axis_2_numbers)}; {page.url} lists {sorted(listed)}"
    )
    checkpoint("plan filtered on axis 2")

    # 4. Commitment 4.
    commitment_path = f"/plans/{PLAN}/engagements/4/"
    click_through(
        page, f'a[href$="{commitment_path}"]', lambda url: urlsplit(url).path.endswith(commitment_path), "commitment"
    )
    checkpoint("commitment 4")

    # 5. Its indicator: a chart, and a table of the same figures.
    click_through(page, 'a[href*="/indicateurs/"]', lambda url: "/indicateurs/" in urlsplit(url).path, "indicator")
    assert page.locator("main figure svg").count(), f"indicator: no <figure> with an <svg> chart on {page.url}"
    tables = page.locator("main table")
    assert tables.count(), f"indicator: no <table> of the figures on {page.url}"
    rows = tables.first.locator("tr:has(td)")
    assert rows.count() == 3, f"indicator: the table has {rows.count()} data rows, expected 3 (one per value)"
    assert "45" in tables.first.inner_text(), "indicator: the table does not show the value 45"
    checkpoint("indicator")

    # 6. The same page in English.
    french_path = path_of(page)
    click_through(page, 'a[hreflang="en"]', lambda url: urlsplit(url).path.startswith("/en/"), "English")
    assert same_view(french_path, path_of(page)), f"English: {path_of(page)} is not the page {french_path} in English"
    assert html_lang(page) == "en", f'English: <html lang="{html_lang(page)}">, expected "en"'
    checkpoint("indicator in English")


@pytest.mark.parametrize("path", PAGES)
def test_page_is_accessible(
    site: Site, page: Page, path: str, external_requests: ExternalRequests, screenshots: Screenshots
) -> None:
    if path == FORUM:
        path = site.forum_url
    response = page.goto(path)
    expected_status = 404 if path == NOT_FOUND else 200
    assert response is not None and response.status == expected_status, (
        f"{path} answered {response and response.status}, expected {expected_status}"
    )
    expected_lang = "en" if path.startswith("/en/") else "fr"
    assert html_lang(page) == expected_lang, f'{path}: <html lang="{html_lang(page)}">, expected "{expected_lang}"'
    screenshots.take(page, path)
    external_requests.assert_none(path)
    assert_no_axe_violations(page, where=path)
