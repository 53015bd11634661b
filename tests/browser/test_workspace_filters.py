"""A long relation filter of the workspace in a real browser: its box finds a choice past the first 20, keeps the
list's other parameters, and the choice made filters the list."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from commitments.models import Administration
from commitments.reference_data import load_reference_data
from opengov.admin_site import FILTER_CHOICES_SHOWN
from tests.browser.conftest import ExternalRequests

pytestmark = pytest.mark.browser

PASSWORD = "un mot de passe assez long"


@pytest.fixture(autouse=True)
def beyond_the_first(transactional_db: None, settings: object) -> dict[str, str]:
    """The reference data (52 administrations carry its commitments), a coordinator who signs in with a password
    alone, and an administration past the first 20 of the filter; autouse: the database is out of reach once the
    browser runs."""
    settings.OTP_REQUIRED = False
    load_reference_data()
    get_user_model().objects.create_superuser("coordination", "coordination@example.gouv.fr", PASSWORD)
    carrying = Administration.objects.filter(carriers__isnull=False).distinct().order_by("name", "pk")
    assert carrying.count() > FILTER_CHOICES_SHOWN
    last = carrying.last()
    # A word of its name that is only a word (not "d'administration").
    word = max(last.name.split(), key=len)
    return {"name": str(last), "word": word}


def test_a_coordinator_finds_an_administration_past_the_first_twenty(
    page: Page, beyond_the_first: dict[str, str], external_requests: ExternalRequests
) -> None:
    page.goto("/admin/commitments/commitment/")
    page.locator("#id_username").fill("coordination")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    # Sorted by title, descending: the box must send that again.
    page.goto("/admin/commitments/commitment/?o=-3")
    sidebar = page.locator("#changelist-filter")
    expect(sidebar).to_contain_text("Seuls les 20 premiers choix sont listés")
    expect(sidebar.get_by_role("link", name=beyond_the_first["name"], exact=True)).to_have_count(0)

    box = page.get_by_label("Chercher dans ce filtre")
    box.fill(beyond_the_first["word"])
    box.press("Enter")

    expect(page).to_have_url(re.compile(r"\?o=-3&carriers__administration__search="))
    assert parse_qs(urlsplit(page.url).query)["carriers__administration__search"] == [beyond_the_first["word"]]
    choice = sidebar.get_by_role("link", name=beyond_the_first["name"], exact=True)
    expect(choice).to_be_visible()
    # The project's stylesheet (allowed by the policy) sets the box across the sidebar.
    assert box.evaluate("element => getComputedStyle(element).boxSizing") == "border-box"
    total = page.locator("#changelist .paginator").inner_text()

    choice.click()

    expect(sidebar.locator("li.selected", has_text=beyond_the_first["name"])).to_have_count(1)
    assert page.locator("#changelist .paginator").inner_text() != total
    external_requests.assert_none("workspace filters")
