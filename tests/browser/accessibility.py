"""The accessibility check shared by the browser tests: axe-core, injected into the page and run on it."""

import os
from functools import cache
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page

# Installed by `npm ci` at the repository root, from package.json / package-lock.json.
AXE_SCRIPT = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.1 levels A and AA: the RGAA, which French public sites must meet, builds on them.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# How many offending elements a failure names for each rule.
TARGETS_SHOWN = 3

_RUN_AXE = """async (tags) => {
  const results = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  const selector = (node) => node.target.map((part) => [].concat(part).join(" >>> ")).join(" ");
  const summary = (rules) => rules.map((rule) => ({
    id: rule.id, impact: rule.impact, help: rule.help, helpUrl: rule.helpUrl, targets: rule.nodes.map(selector),
  }));
  return {
    version: results.testEngine.version,
    violations: summary(results.violations),
    incomplete: summary(results.incomplete),
    passes: results.passes.map((rule) => rule.id),
  };
}"""


def missing_tool(message: str) -> None:
    """Stop a browser test whose tools are not installed.

    CI sets OPENGOV_BROWSER_TESTS=required, and there a missing tool fails the run. On a newcomer's
    machine with Python alone, `make test` still runs everything else and says what to install.
    """
    if os.environ.get("OPENGOV_BROWSER_TESTS") == "required":
        pytest.fail(message, pytrace=False)
    pytest.skip(f"{message} (OPENGOV_BROWSER_TESTS=required makes this an error, as in CI)")


@cache
def axe_script() -> str:
    """axe-core's source; stops the test when it is not installed."""
    if not AXE_SCRIPT.is_file():
        missing_tool(
            f"axe-core is missing ({AXE_SCRIPT}): run `npm ci --no-audit --no-fund` at the repository root "
            "(Node.js and npm on Debian: apt-get install -y nodejs npm)."
        )
    return AXE_SCRIPT.read_text(encoding="utf-8")


def run_axe(page: Page) -> dict:
    """Run axe-core on the page's document, WCAG 2.1 A and AA rules only; returns a summary of its results."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_script())
    return page.evaluate(_RUN_AXE, AXE_TAGS)


def format_violations(violations: list[dict]) -> str:
    lines = []
    for rule in violations:
        shown = ", ".join(rule["targets"][:TARGETS_SHOWN])
        more = len(rule["targets"]) - TARGETS_SHOWN
        if more > 0:
            shown += f" and {more} more"
        lines.append(f"- {rule['id']} ({rule['impact']}): {rule['help']}\n    on {shown}\n    {rule['helpUrl']}")
    return "\n".join(lines)


def assert_no_axe_violations(page: Page, where: str) -> dict:
    """Fail, listing each violation, if axe-core finds any on the page; returns axe's results otherwise."""
    results = run_axe(page)
    violations = results["violations"]
    if violations:
        pytest.fail(
            f"{where}: axe-core {results['version']} found {len(violations)} accessibility violation(s) "
            f"on {page.url}:\n{format_violations(violations)}",
            pytrace=False,
        )
    return results
