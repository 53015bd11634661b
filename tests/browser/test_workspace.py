"""An editor's everyday update in a real browser: sign in with a password and a code, record a value,
see it on the public page."""

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone
from django.utils.formats import date_format
from django_otp.oath import totp
from playwright.sync_api import Page, expect

from accounts.models import MembershipRole
from commitments.models import Commitment
from commitments.reference_data import load_reference_data
from tests.browser.accessibility import assert_no_axe_violations
from tests.browser.conftest import ExternalRequests, Screenshots
from tests.factories import IndicatorFactory, MembershipFactory, TOTPDeviceFactory

pytestmark = pytest.mark.browser

PASSWORD = "un mot de passe assez long"


@dataclass(frozen=True)
class Editor:
    username: str
    key: bytes
    commitment_pk: int
    commitment_url: str
    indicator_pk: int
    indicator_url: str
    administration: str
    today: str

    def code(self) -> str:
        """The code the authenticator app shows now (computed here: the database is out of reach)."""
        return f"{totp(self.key, step=30, t0=0, digits=6):06d}"


@pytest.fixture(autouse=True)
def editor(transactional_db: None, settings: object) -> Editor:
    """An editor of the administration that leads 2018-2020's commitment 4, with an authenticator; the
    second factor is required, as in production. Autouse: the database is out of reach once the browser runs."""
    settings.OTP_REQUIRED = True
    load_reference_data()
    commitment = Commitment.objects.get(plan__slug="2018-2020", number=4)
    administration = commitment.carriers.get(role="lead").administration
    user = MembershipFactory(
        administration=administration, role=MembershipRole.EDITOR, user__username="agent.public", user__is_staff=True
    ).user
    user.set_password(PASSWORD)
    user.save()
    device = TOTPDeviceFactory(user=user)
    indicator = IndicatorFactory(
        commitment=commitment, name="Jeux de données publiés", maximum_value=Decimal(100000), baseline_value=Decimal(0)
    )
    return Editor(
        username=user.username,
        key=device.bin_key,
        commitment_pk=commitment.pk,
        commitment_url=commitment.get_absolute_url(),
        indicator_pk=indicator.pk,
        indicator_url=indicator.get_absolute_url(),
        administration=administration.name,
        today=date_format(timezone.localdate(), "DATE_FORMAT"),
    )


def test_an_editor_records_a_value_and_sees_it_on_the_public_page(
    page: Page, editor: Editor, external_requests: ExternalRequests, screenshots: Screenshots
) -> None:
    # 1. The workspace asks for the password, then the code.
    page.goto("/admin/")
    page.locator("#id_username").fill(editor.username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    screenshots.take(page, "code step")
    page.get_by_label("Code").fill(editor.code())
    page.get_by_role("button", name="Vérifier").click()
    expect(page.locator("#site-name")).to_be_visible()
    screenshots.take(page, "workspace home")
    external_requests.assert_none("workspace home")

    # 2. The list holds the administration's commitments, each with its update link.
    page.goto("/admin/commitments/commitment/")
    page.locator(f'a[href="/admin/commitments/commitment/{editor.commitment_pk}/mettre-a-jour/"]').click()
    expect(page.get_by_role("heading", name="Jeux de données publiés")).to_be_visible()
    screenshots.take(page, "update page")

    # 3. A value, written the French way.
    panel = page.locator(f"#indicator-{editor.indicator_pk}")
    panel.get_by_label("Date").fill(timezone.localdate().isoformat())
    panel.get_by_label("Valeur").fill("1 234,5")
    panel.get_by_label("Note (publique)").fill("Décompte du portail")
    panel.get_by_role("button", name="Enregistrer la valeur").click()
    expect(page.locator(".messagelist")).to_contain_text("Jeux de données publiés")
    screenshots.take(page, "value recorded")
    external_requests.assert_none("value recorded")

    # 4. The public pages show it at once: the indicator's, and the commitment's freshness.
    page.goto(editor.indicator_url)
    expect(page.locator("main")).to_contain_text("1 234,5")
    assert_no_axe_violations(page, where="indicator page after the update")
    page.goto(editor.commitment_url)
    freshness = page.locator("dt:has-text('Dernière mise à jour') + dd")
    expect(freshness).to_contain_text(f"le {editor.today} par {editor.administration}")
    expect(page.get_by_role("link", name="Mettre à jour cet engagement")).to_be_visible()
    screenshots.take(page, "public commitment page")
    external_requests.assert_none("public pages")
