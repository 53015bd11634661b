"""Models' addresses come from templates kept per process (opengov.addresses.path_to), not from a reverse() per
row (issue 9): they must stay what reverse() writes, in each language, under a script prefix, and follow a change
of URLconf."""

import pytest
from django.test import override_settings
from django.urls import clear_script_prefix, reverse, set_script_prefix
from django.utils import timezone, translation

from commitments.models import ActionPlan, Administration, Commitment
from commitments.scale_data import Sizes, generate_scale_data
from forums.models import Contribution, Forum
from indicators.models import Indicator

pytestmark = pytest.mark.django_db

SMALL = Sizes(
    owners=2, administrations=6, plans=3, commitments=12, indicators=12, values=12, forums=3, contributions=12
)


def _reversed(page: object) -> str:
    """The address of each kind of page as reverse() writes it."""
    match page:
        case ActionPlan():
            return reverse("commitments:plan", args=[page.slug])
        case Administration():
            return reverse("commitments:administration", args=[page.slug])
        case Commitment():
            return reverse("commitments:detail", args=[page.plan.slug, page.number])
        case Indicator():
            return reverse("indicators:detail", args=[page.commitment.plan.slug, page.commitment.number, page.pk])
        case Forum():
            return reverse("forums:detail", args=[page.pk])
    raise AssertionError(page)


def test_every_address_is_that_of_reverse_in_each_language_and_under_a_script_prefix() -> None:
    generate_scale_data(sizes=SMALL, seed=3, today=timezone.localdate())
    pages = [
        *ActionPlan.objects.all(),
        *Administration.objects.all(),
        *Commitment.objects.select_related("plan"),
        *Indicator.objects.select_related("commitment__plan"),
        *Forum.objects.all(),
    ]
    assert len({type(page) for page in pages}) == 5

    for prefix in ["/", "/suivi/"]:
        set_script_prefix(prefix)
        try:
            for language in ["fr", "en", "fr"]:
                with translation.override(language):
                    for page in pages:
                        assert page.get_absolute_url() == _reversed(page), (prefix, language, page)
        finally:
            clear_script_prefix()
            set_script_prefix("/")


def test_a_contribution_is_shown_on_its_commitment_or_its_forum() -> None:
    generate_scale_data(sizes=SMALL, seed=3, today=timezone.localdate())
    on_commitment = Contribution.objects.filter(commitment__isnull=False).select_related("commitment__plan").first()
    on_forum = Contribution.objects.filter(commitment__isnull=True).select_related("forum").first()

    assert on_commitment.get_absolute_url() == f"{_reversed(on_commitment.commitment)}#contribution-{on_commitment.pk}"
    if on_forum is not None:
        assert on_forum.get_absolute_url() == f"{_reversed(on_forum.forum)}#contribution-{on_forum.pk}"


def test_a_change_of_urlconf_changes_the_addresses() -> None:
    generate_scale_data(sizes=SMALL, seed=3, today=timezone.localdate())
    plan = ActionPlan.objects.first()
    before = plan.get_absolute_url()

    with override_settings(ROOT_URLCONF="tests.moved_urls"):
        assert plan.get_absolute_url() == f"/archives{before}" == _reversed(plan)
    assert plan.get_absolute_url() == before
