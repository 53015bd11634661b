"""The Content-Security-Policy in a real browser: no page of the site, the workspace or the API documentation
has a script, style or resource that the policy refuses, and their scripts still run under it."""

from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect
from pytest_django.live_server_helper import LiveServer

from commitments.models import Commitment
from commitments.reference_data import load_reference_data
from tests.browser.conftest import TIMEOUT_MS, ExternalRequests

pytestmark = pytest.mark.browser

PASSWORD = "un mot de passe assez long"


@pytest.fixture(autouse=True)
def site(transactional_db: None, settings: object) -> dict[str, str]:
    """The reference data and a superuser who signs in with a password alone (the second factor has its own
    tests); autouse: the database is out of reach once the browser runs."""
    settings.OTP_REQUIRED = False
    load_reference_data()
    get_user_model().objects.create_superuser("coordination", "coordination@example.gouv.fr", PASSWORD)
    commitment = Commitment.objects.get(plan__slug="2018-2020", number=4)
    return {"commitment": commitment.get_absolute_url(), "commitment_pk": str(commitment.pk)}


@pytest.fixture
def strict_context(
    browser: Browser, live_server: LiveServer, external_requests: ExternalRequests
) -> Iterator[BrowserContext]:
    # Unlike the other browser tests' context, this one keeps the policy: axe-core is not injected here.
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    context.set_default_timeout(TIMEOUT_MS)
    context.route("**/*", external_requests.handle)
    yield context
    context.close()


class Refusals:
    """What the browser refused or failed to run on a page: CSP reports in the console, and script errors."""

    def __init__(self, page: Page) -> None:
        self.messages: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.messages.append(f"script error: {error} {error.stack}"))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.messages.append(message.text)

    def assert_none(self, where: str) -> None:
        found, self.messages = self.messages, []
        assert not found, f"{where}:\n" + "\n".join(found)


def visit(page: Page, refusals: Refusals, path: str, *, status: int = 200) -> None:
    response = page.goto(path)
    assert response is not None and response.status == status, path
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy, path
    page.wait_for_load_state("load")
    refusals.assert_none(path)


def test_public_pages_run_their_scripts_under_the_policy(
    strict_context: BrowserContext, site: dict[str, str], external_requests: ExternalRequests
) -> None:
    page = strict_context.new_page()
    refusals = Refusals(page)
    for path in [
        "/",
        "/plans/2018-2020/",
        site["commitment"],
        f"{site['commitment']}contribuer/",
        "/forums/",
        "/questions/",
        "/en/",
        "/confidentialite/",
    ]:
        visit(page, refusals, path)
        # The DSFR's script marks the document once it has started: it ran, from the site's own file.
        expect(page.locator("html[data-fr-js='true']")).to_have_count(1)
    visit(page, refusals, "/page-qui-n-existe-pas/", status=404)
    external_requests.assert_none("public pages")


def test_the_api_documentation_renders_under_the_policy(
    strict_context: BrowserContext, external_requests: ExternalRequests
) -> None:
    page = strict_context.new_page()
    refusals = Refusals(page)
    visit(page, refusals, "/api/docs/")
    # Swagger UI has read the schema and drawn the operations: its start-up script ran as a file.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("opengov API")
    expect(page.locator(".opblock").first).to_be_visible()
    refusals.assert_none("API documentation, rendered")
    external_requests.assert_none("API documentation")


def test_the_workspace_runs_its_scripts_under_the_policy(
    strict_context: BrowserContext, site: dict[str, str], external_requests: ExternalRequests
) -> None:
    page = strict_context.new_page()
    refusals = Refusals(page)
    visit(page, refusals, "/admin/login/")
    page.locator("#id_username").fill("coordination")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    expect(page.locator("#site-name")).to_be_visible()
    refusals.assert_none("sign-in")
    for path in [
        "/admin/",
        "/admin/commitments/commitment/",
        f"/admin/commitments/commitment/{site['commitment_pk']}/mettre-a-jour/",
        "/admin/forums/contribution/",
        "/admin/accounts/user/",
        "/admin/forums/forum/add/",
    ]:
        visit(page, refusals, path)
    # The date widgets of the forum form are drawn by the admin's script: it ran.
    expect(page.locator(".datetimeshortcuts").first).to_be_attached()
    external_requests.assert_none("workspace")
