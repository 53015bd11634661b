"""Browser tests: Debian's Chromium, driven by Playwright, against pytest-django's live server.

While Playwright runs, its event loop runs in the test's thread, so Django refuses database calls from the test
(SynchronousOnlyOperation): prepare data in fixtures that the `page` fixture comes after (autouse ones, or ones
the `page` fixture follows in the test's arguments), never in the middle of a browser test.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright
from pytest_django.live_server_helper import LiveServer

from tests.browser.accessibility import axe_script, missing_tool

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Long enough for a slow CI machine; a missing element is looked for without waiting (see test_journey.py).
TIMEOUT_MS = 15_000

_screenshots_key = pytest.StashKey["Screenshots"]()
_requests_key = pytest.StashKey["ExternalRequests"]()
_call_failed_key = pytest.StashKey[bool]()


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Chromium, started for one test and closed before its database is flushed."""
    if not CHROMIUM.exists():
        missing_tool(
            f"Chromium is missing ({CHROMIUM}): install Debian's package with `apt-get install -y chromium` "
            "(never `playwright install`, which downloads a browser)."
        )
    axe_script()  # fails now, rather than at the first check, when axe-core is not installed
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class ExternalRequests:
    """Aborts every request that does not go to the live server, and keeps a list of them."""

    origin: str
    blocked: list[str] = field(default_factory=list)
    reported: int = 0

    def handle(self, route: Route) -> None:
        url = route.request.url
        if _origin(url) == self.origin:
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("blockedbyclient")

    def unreported(self) -> list[str]:
        return self.blocked[self.reported :]

    def assert_none(self, where: str) -> None:
        """Fail if a request has gone elsewhere than to the live server since the last check."""
        attempted = self.unreported()
        self.reported = len(self.blocked)
        assert not attempted, f"{where}: the page tried to reach outside the site (blocked):\n" + "\n".join(
            f"- {url}" for url in attempted
        )


@dataclass
class Screenshots:
    folder: Path
    taken: list[Path] = field(default_factory=list)

    def take(self, page: Page, name: str) -> Path:
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "page"
        path = self.folder / f"{len(self.taken) + 1:02d}-{slug}.png"
        page.screenshot(path=path, full_page=True)
        self.taken.append(path)
        return path


@pytest.fixture
def external_requests(request: pytest.FixtureRequest, live_server: LiveServer) -> Iterator[ExternalRequests]:
    requests = ExternalRequests(origin=_origin(live_server.url))
    request.node.stash[_requests_key] = requests
    yield requests
    # A test that passed, but whose pages went on to request something after its last check.
    if not request.node.stash.get(_call_failed_key, True) and requests.unreported():
        requests.assert_none("after the test's last check")


@pytest.fixture
def screenshots(request: pytest.FixtureRequest, tmp_path: Path) -> Screenshots:
    folder = tmp_path / "screenshots"
    folder.mkdir()
    shots = Screenshots(folder)
    request.node.stash[_screenshots_key] = shots
    return shots


@pytest.fixture
def context(browser: Browser, live_server: LiveServer, external_requests: ExternalRequests) -> Iterator[BrowserContext]:
    # A French reader; the CSP is bypassed only so that axe-core can be injected as an inline script.
    context = browser.new_context(
        base_url=live_server.url, locale="fr-FR", viewport={"width": 1280, "height": 900}, bypass_csp=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.route("**/*", external_requests.handle)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A page of a fresh browser context on the live server: relative URLs go there, every other request fails."""
    return context.new_page()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    report = yield
    if report.when == "call":
        item.stash[_call_failed_key] = report.failed
    if report.failed:
        shots = item.stash.get(_screenshots_key, None)
        if shots is not None:
            taken = "\n".join(str(path) for path in shots.taken) or "(none taken before the failure)"
            report.sections.append(("screenshots", f"Screenshots of the steps, in {shots.folder}:\n{taken}"))
        requests = item.stash.get(_requests_key, None)
        if requests is not None and requests.unreported():
            blocked = "\n".join(requests.unreported())
            report.sections.append(("external requests", f"Blocked requests not yet reported:\n{blocked}"))
    return report
