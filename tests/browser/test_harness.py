"""The browser tests' own tools: that they catch what they are there to catch."""

import pytest
from playwright.sync_api import Page

from tests.browser.accessibility import assert_no_axe_violations, run_axe
from tests.browser.conftest import ExternalRequests

pytestmark = pytest.mark.browser

ACCESSIBLE = (
    '<!DOCTYPE html><html lang="fr"><head><title>Essai</title></head><body><main><h1>Essai</h1></main></body></html>'
)
IMAGE_WITHOUT_ALT = ACCESSIBLE.replace(
    "<h1>Essai</h1>", '<h1>Essai</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
)


def test_axe_runs_and_reports_violations(page: Page) -> None:
    page.set_content(ACCESSIBLE)
    results = assert_no_axe_violations(page, where="an accessible page")
    assert "html-has-lang" in results["passes"]

    page.set_content(IMAGE_WITHOUT_ALT)
    assert [rule["id"] for rule in run_axe(page)["violations"]] == ["image-alt"]
    with pytest.raises(pytest.fail.Exception, match=r"image-alt .*\n    on img"):
        assert_no_axe_violations(page, where="an image without text alternative")


def test_requests_outside_the_live_server_are_blocked(page: Page, external_requests: ExternalRequests) -> None:
    response = page.goto("/page-qui-n-existe-pas/")  # any answer of the live server will do
    assert response is not None

    local = page.evaluate("fetch('/').then(response => response.status)")
    external = page.evaluate("fetch('https://example.org/tracker.js').then(() => 'reached', () => 'failed')")

    assert isinstance(local, int)
    assert external == "failed"
    assert external_requests.blocked == ["https://example.org/tracker.js"]
    with pytest.raises(AssertionError, match=r"example\.org/tracker\.js"):
        external_requests.assert_none("harness")
    assert not external_requests.unreported()
