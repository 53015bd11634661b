"""The citizens' dialogue in a real browser: a citizen asks, a coordinator publishes, the carrying
administration answers, and the citizen reads the answer on the commitment's page."""

import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import connections
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django_otp.oath import totp
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, expect
from pytest_django.live_server_helper import LiveServer

from accounts.models import MembershipRole
from commitments.models import Commitment
from commitments.reference_data import load_reference_data
from forums.models import Answer, AuthorNotice, Contribution, ContributionState
from tests.browser.accessibility import assert_no_axe_violations
from tests.browser.conftest import TIMEOUT_MS, ExternalRequests, Screenshots
from tests.factories import MembershipFactory, TOTPDeviceFactory

pytestmark = pytest.mark.browser

PASSWORD = "un mot de passe assez long"
# Short enough to be the whole link text of its row in the workspace's list (cut at 80 characters).
QUESTION = "Combien de jeux de données ont été publiés en 2019, et où les trouver ?"
ANSWER = "Quarante-cinq jeux de données, tous sur data.gouv.fr, sous la licence ouverte."
DISPLAY_NAME = "Camille D."
EMAIL = "camille.citoyenne@example.org"
SCRIPT = "<script>alert(1)</script>"
IMAGE = "<img src=x onerror=alert(2)>"
PLAIN_TEXT_ONLY = "Écrivez du texte simple : les balises HTML comme <script> ou <a> ne sont pas acceptées."
CHANGE_PATH = re.compile(r"/admin/forums/contribution/(\d+)/change/$")

T = TypeVar("T")


@dataclass(frozen=True)
class Member:
    username: str
    email: str
    key: bytes

    def code(self) -> str:
        """The code the authenticator app shows now (computed here: the database is out of reach)."""
        return f"{totp(self.key, step=30, t0=0, digits=6):06d}"


@dataclass(frozen=True)
class Dialogue:
    commitment_path: str
    contribute_path: str
    administration: str
    administration_pk: int
    coordinator: Member
    editor: Member
    today: str


def _member(role: str, username: str, **membership: object) -> Member:
    user = MembershipFactory(role=role, user__username=username, user__is_staff=True, **membership).user
    user.set_password(PASSWORD)
    user.save()
    return Member(username=user.username, email=user.email, key=TOTPDeviceFactory(user=user).bin_key)


@pytest.fixture(autouse=True)
def dialogue(transactional_db: None, settings: object, in_process_tasks: None) -> Dialogue:
    """2018-2020's commitment 4, a coordinator and an editor of its lead administration, each with an
    authenticator; the second factor is required, as in production. Autouse: the database is out of reach
    once the browser runs."""
    settings.OTP_REQUIRED = True
    # The tests send several forms from one address; the limit is tested in tests/forums.
    settings.CONTRIBUTION_RATE_COUNT = 100
    cache.clear()
    load_reference_data()
    commitment = Commitment.objects.select_related("plan").get(plan__slug="2018-2020", number=4)
    administration = commitment.carriers.get(role="lead").administration
    with translation.override("fr"):
        today = date_format(timezone.localdate(), "DATE_FORMAT")
    return Dialogue(
        commitment_path=commitment.get_absolute_url(),
        contribute_path=reverse("forums:contribute-commitment", args=[commitment.plan.slug, commitment.number]),
        administration=administration.name,
        administration_pk=administration.pk,
        coordinator=_member(MembershipRole.COORDINATOR, "coordination"),
        editor=_member(MembershipRole.EDITOR, "agent.public", administration=administration),
        today=today,
    )


@pytest.fixture
def new_page(
    browser: Browser, live_server: LiveServer, external_requests: ExternalRequests
) -> Iterator[Callable[[], Page]]:
    """Pages of further browser contexts, set up as conftest's `context`: one per person, each with its cookies."""
    contexts: list[BrowserContext] = []

    def open_page() -> Page:
        context = browser.new_context(
            base_url=live_server.url, locale="fr-FR", viewport={"width": 1280, "height": 900}, bypass_csp=True
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.route("**/*", external_requests.handle)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def after_the_browser(query: Callable[[], T]) -> T:
    """Run a database query from another thread: in the test's own, Playwright's event loop makes Django refuse it."""

    def run() -> T:
        try:
            return query()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def sign_in(page: Page, member: Member) -> None:
    page.goto("/admin/")
    page.locator("#id_username").fill(member.username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.get_by_label("Code").fill(member.code())
    page.get_by_role("button", name="Vérifier").click()
    expect(page.locator("#site-name")).to_be_visible()


def open_from_the_list(page: Page) -> int:
    """Open the question from the workspace's list of contributions; returns its number."""
    page.goto("/admin/forums/contribution/")
    page.locator("#result_list").get_by_role("link", name=QUESTION).click()
    page.wait_for_url(CHANGE_PATH)
    expect(page.locator(".og-contribution-text")).to_contain_text(QUESTION)
    return int(CHANGE_PATH.search(page.url).group(1))


def assert_email_not_shown(page: Page, where: str) -> None:
    assert EMAIL not in page.content(), f"{where}: the author's e-mail address is in the page {page.url}"


def test_a_citizen_asks_a_question_and_reads_the_answer(
    page: Page,
    new_page: Callable[[], Page],
    dialogue: Dialogue,
    external_requests: ExternalRequests,
    screenshots: Screenshots,
    mailoutbox: list[mail.EmailMessage],
) -> None:
    # 1. A citizen, without an account, follows the link from the commitment's page. The plan's consultation
    #    is not open: only questions are taken, and the one kind is chosen already.
    page.goto(dialogue.commitment_path)
    page.get_by_role("link", name="Poser une question ou contribuer").click()
    page.wait_for_url(f"**{dialogue.contribute_path}")
    expect(page.get_by_role("radio")).to_have_count(1)
    expect(page.get_by_role("radio", name="Question")).to_be_checked()
    assert_no_axe_violations(page, where="contribution form")
    page.get_by_label("Votre texte").fill(QUESTION)
    page.get_by_label("Nom public (facultatif)").fill(DISPLAY_NAME)
    page.get_by_label("Adresse électronique (facultative)").fill(EMAIL)
    screenshots.take(page, "contribution form")
    page.get_by_role("button", name="Envoyer").click()

    # 2. Thanked; the question waits for moderation, out of sight.
    expect(page.get_by_role("heading", name="Merci pour votre contribution")).to_be_visible()
    assert_no_axe_violations(page, where="thanks page")
    screenshots.take(page, "thanks page")
    page.get_by_role("link", name="Retour à la page").click()
    page.wait_for_url(f"**{dialogue.commitment_path}")
    expect(page.get_by_role("heading", name="Questions et contributions")).to_be_visible()
    expect(page.locator("article.og-contribution")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text(QUESTION)
    external_requests.assert_none("citizen, before moderation")

    # 3. A coordinator publishes it; the address is not shown to them.
    coordinator = new_page()
    sign_in(coordinator, dialogue.coordinator)
    pk = open_from_the_list(coordinator)
    assert_email_not_shown(coordinator, "coordinator's page of the contribution")
    moderation = coordinator.locator("form:has(input[name=action][value=moderate])")
    moderation.get_by_role("radio", name="Publier", exact=True).check()
    moderation.get_by_role("button", name="Enregistrer la décision").click()
    expect(coordinator.locator(".messagelist .success")).to_be_visible()
    screenshots.take(coordinator, "published by the coordinator")
    external_requests.assert_none("coordinator")

    # 4. The citizen sees it published, awaiting its answer since today.
    page.reload()
    question = page.locator(f"article#contribution-{pk}")
    expect(question).to_contain_text(QUESTION)
    expect(question).to_contain_text(f"de {DISPLAY_NAME}, publiée le {dialogue.today}")
    expect(question).to_contain_text("En attente de réponse depuis 0 jour")

    # 5. The editor of the lead administration answers it in its name, and in its name only.
    editor = new_page()
    sign_in(editor, dialogue.editor)
    assert open_from_the_list(editor) == pk
    assert_email_not_shown(editor, "editor's page of the contribution")
    expect(editor.locator("form:has(input[name=action][value=moderate])")).to_have_count(0)
    answer_form = editor.locator("form:has(input[name=action][value=answer])")
    on_behalf_of = answer_form.get_by_label("Au nom de")
    expect(on_behalf_of.locator("option")).to_have_count(1)
    expect(on_behalf_of).to_have_value(str(dialogue.administration_pk))
    answer_form.get_by_label("Réponse (publique)").fill(ANSWER)
    answer_form.get_by_role("button", name="Publier la réponse").click()
    expect(editor.locator(".messagelist .success")).to_have_text("La réponse est publiée.")
    screenshots.take(editor, "answered by the editor")
    external_requests.assert_none("editor")

    # 6. The citizen reads the answer, dated and signed by the administration; their address is nowhere.
    page.reload()
    expect(question).to_contain_text(QUESTION)
    answer = question.locator(".og-answer")
    expect(answer).to_contain_text(f"Répondue le {dialogue.today} par {dialogue.administration}")
    expect(answer).to_contain_text(ANSWER)
    expect(question).not_to_contain_text("En attente de réponse")
    assert_email_not_shown(page, "commitment page")
    assert_no_axe_violations(page, where="commitment page with the answer")
    screenshots.take(page, "commitment page with the answer")
    external_requests.assert_none("citizen, after the answer")

    # 7. E-mails, sent by Celery (eager here) in the live server's thread: the author was told twice, the
    #    editor once, the coordinator never.
    to_author = [message.subject for message in mailoutbox if message.to == [EMAIL]]
    assert to_author == ["Votre contribution est publiée", "Une réponse à votre contribution"]
    to_editor = [message for message in mailoutbox if message.to == [dialogue.editor.email]]
    assert len(to_editor) == 1 and QUESTION in to_editor[0].body
    assert f"/admin/forums/contribution/{pk}/change/" in to_editor[0].body
    assert len(mailoutbox) == 3, [message.to for message in mailoutbox]

    # 8. Once the author is told of the answer, their address is erased.
    stored = after_the_browser(lambda: Contribution.objects.values("state", "email", "author_notice").get(pk=pk))
    assert stored == {"state": ContributionState.PUBLISHED, "email": "", "author_notice": AuthorNotice.ANSWERED}
    answered = after_the_browser(lambda: Answer.objects.values("body", "administration__name").get(contribution=pk))
    assert answered == {"body": ANSWER, "administration__name": dialogue.administration}


def test_bad_input_is_refused_beside_its_field_and_nothing_is_stored(
    page: Page, dialogue: Dialogue, external_requests: ExternalRequests, screenshots: Screenshots
) -> None:
    dialogs: list[str] = []

    def refuse(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", refuse)
    text, name, email = (
        page.get_by_label("Votre texte"),
        page.get_by_label("Nom public (facultatif)"),
        page.get_by_label("Adresse électronique (facultative)"),
    )
    send = page.get_by_role("button", name="Envoyer")

    # 1. Sent without a text: the message is beside the text field, tied to it, and the other values are kept.
    page.goto(dialogue.contribute_path)
    name.fill(DISPLAY_NAME)
    email.fill(EMAIL)
    send.click()
    expect(page.locator("#id_body-errors")).to_have_text("Ce champ est obligatoire.")
    expect(text).to_have_attribute("aria-describedby", re.compile(r"\bid_body-errors\b"))
    expect(name).to_have_value(DISPLAY_NAME)
    expect(email).to_have_value(EMAIL)
    expect(page.get_by_role("radio", name="Question")).to_be_checked()
    expect(page.locator("#id_display_name-errors")).to_be_empty()
    screenshots.take(page, "empty text refused")

    # 2. HTML in the text and in the name: refused beside each field, shown as text, never run.
    text.fill(SCRIPT)
    name.fill(IMAGE)
    send.click()
    expect(page.locator("#id_body-errors")).to_have_text(PLAIN_TEXT_ONLY)
    expect(page.locator("#id_display_name-errors")).to_have_text(PLAIN_TEXT_ONLY)
    expect(text).to_have_value(SCRIPT)
    expect(name).to_have_value(IMAGE)
    expect(page.locator("main script, main img[onerror]")).to_have_count(0)
    screenshots.take(page, "HTML refused")
    assert_no_axe_violations(page, where="contribution form with errors")

    # 3. A robot that fills the trap, which people never see, is thanked like a person.
    text.fill(QUESTION)
    name.fill(DISPLAY_NAME)
    page.locator("input[name=website]").fill("https://spam.example.org/", force=True)
    send.click()
    expect(page.get_by_role("heading", name="Merci pour votre contribution")).to_be_visible()
    external_requests.assert_none("bad input")

    assert dialogs == []
    assert after_the_browser(lambda: Contribution.objects.count()) == 0
