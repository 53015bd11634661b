"""A contribution's page in the workspace: moderation by coordinators, answers by the carrying administrations."""

import datetime

import pytest
from django.apps import apps
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from forums.models import Answer, Contribution, ContributionState
from opengov.middleware import last_data_change
from tests.factories import ContributionFactory
from tests.workspace import World, build_world

pytestmark = pytest.mark.django_db

SECRET = "auteur.discret@example.org"


@pytest.fixture
def world(settings) -> World:
    settings.OTP_REQUIRED = False
    return build_world()


def _page(contribution: Contribution) -> str:
    return reverse("admin:forums_contribution_change", args=[contribution.pk])


def test_a_coordinator_publishes_and_the_editor_answers_with_the_author_told_each_time(
    client: Client, world: World, django_capture_on_commit_callbacks
) -> None:
    contribution = ContributionFactory(commitment=world.a.commitment, state=ContributionState.PENDING, email=SECRET)
    client.force_login(world.coordinator)
    page = client.get(_page(contribution)).content.decode()
    assert SECRET not in page and "auteur a laissé une adresse" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_page(contribution), {"action": "moderate", "moderate-decision": "publish"})
    assert response.status_code == 302
    assert {message.to[0] for message in mail.outbox} == {SECRET, world.a.editor.email}
    assert reverse("admin:forums_contribution_change", args=[contribution.pk]) in mail.outbox[-1].body + (
        mail.outbox[0].body
    )

    client.force_login(world.a.editor)
    mail.outbox.clear()
    data = {"action": "answer", "answer-administration": world.a.administration.pk, "answer-body": "C'est fait."}
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(_page(contribution), data).status_code == 302
    answer = Answer.objects.get()
    assert (answer.administration, answer.answered_by, answer.body) == (
        world.a.administration,
        world.a.editor,
        "C'est fait.",
    )
    assert [message.to for message in mail.outbox] == [[SECRET]]
    assert "C'est fait." in mail.outbox[0].body
    contribution.refresh_from_db()
    assert contribution.email == ""  # told of the answer: the address has served its purpose


def test_a_rejection_needs_a_reason_shown_beside_its_field(client: Client, world: World) -> None:
    contribution = ContributionFactory(commitment=world.a.commitment, state=ContributionState.PENDING)
    client.force_login(world.coordinator)
    response = client.post(_page(contribution), {"action": "moderate", "moderate-decision": "reject"})
    assert response.status_code == 200
    assert response.context["moderation_form"].errors["reason"]
    contribution.refresh_from_db()
    assert contribution.state == ContributionState.PENDING


def test_changing_an_answer_needs_a_public_reason_kept_in_its_history(client: Client, world: World) -> None:
    contribution = ContributionFactory(commitment=world.a.commitment)
    client.force_login(world.a.editor)
    first = {"action": "answer", "answer-administration": world.a.administration.pk, "answer-body": "Première."}
    client.post(_page(contribution), first)
    refused = client.post(_page(contribution), {**first, "answer-body": "Seconde."})
    assert refused.status_code == 200 and refused.context["answer_form"].errors["reason"]
    client.post(_page(contribution), {**first, "answer-body": "Seconde.", "answer-reason": "Précision"})
    answer = Answer.objects.get()
    assert answer.body == "Seconde." and answer.updated_at is not None
    assert [(h.body, h.history_change_reason) for h in answer.history.order_by("history_date")] == [
        ("Première.", ""),
        ("Seconde.", "Précision"),
    ]
    assert answer.history.latest().history_administration == world.a.administration


def test_an_editor_cannot_answer_for_an_administration_that_does_not_carry_it(client: Client, world: World) -> None:
    contribution = ContributionFactory(commitment=world.a.commitment)
    client.force_login(world.a.editor)
    data = {"action": "answer", "answer-administration": world.b.administration.pk, "answer-body": "Usurpée."}
    response = client.post(_page(contribution), data)
    assert response.status_code == 200 and response.context["answer_form"].errors["administration"]
    assert not Answer.objects.exists()


def test_html_in_an_answer_is_refused_beside_the_field(client: Client, world: World) -> None:
    contribution = ContributionFactory(commitment=world.a.commitment)
    client.force_login(world.a.editor)
    data = {
        "action": "answer",
        "answer-administration": world.a.administration.pk,
        "answer-body": "<img src=x onerror=alert(1)>",
    }
    response = client.post(_page(contribution), data)
    assert "HTML" in " ".join(response.context["answer_form"].errors["body"])
    assert not Answer.objects.exists()


def test_editors_never_see_what_waits_for_moderation(client: Client, world: World) -> None:
    pending = ContributionFactory(commitment=world.a.commitment, state=ContributionState.PENDING)
    published = ContributionFactory(commitment=world.a.commitment)
    client.force_login(world.a.editor)
    listed = client.get(reverse("admin:forums_contribution_changelist")).context["cl"].result_list
    assert list(listed) == [published]
    assert client.get(_page(pending)).status_code == 404


def test_the_address_is_nowhere_in_the_workspace(client: Client, world: World) -> None:
    contribution = ContributionFactory(commitment=world.a.commitment, email=SECRET, display_name="Camille")
    client.force_login(world.coordinator)
    for url in (
        reverse("admin:forums_contribution_changelist"),
        reverse("admin:forums_contribution_changelist") + "?q=discret",
        _page(contribution),
        reverse("admin:forums_contribution_history", args=[contribution.pk]),
    ):
        assert SECRET not in client.get(url).content.decode(), url
    assert not client.get(reverse("admin:forums_contribution_changelist"), {"q": "discret"}).context["cl"].result_list


def test_bulk_publish_publishes_the_pending_ones_only(client: Client, world: World) -> None:
    pending = ContributionFactory(commitment=world.a.commitment, state=ContributionState.PENDING)
    rejected = ContributionFactory(commitment=world.a.commitment, state=ContributionState.REJECTED)
    client.force_login(world.coordinator)
    data = {"action": "publish_selected", "_selected_action": [pending.pk, rejected.pk]}
    client.post(reverse("admin:forums_contribution_changelist"), data)
    assert Contribution.objects.get(pk=pending.pk).state == ContributionState.PUBLISHED
    assert Contribution.objects.get(pk=rejected.pk).state == ContributionState.REJECTED


def test_an_erasure_moves_the_date_caches_revalidate_by(world: World, monkeypatch) -> None:
    monkeypatch.setattr("opengov.middleware.CODE_CHANGED_AT", timezone.now() - datetime.timedelta(days=400))
    contribution = ContributionFactory(commitment=world.a.commitment, display_name="Camille")
    for model in apps.get_models():
        if hasattr(model._meta, "simple_history_manager_attribute"):
            model.history.update(history_date=timezone.now() - datetime.timedelta(days=300))
    before = last_data_change()
    call_command("erase_contributor", "--contribution", str(contribution.pk))
    assert last_data_change() > before


def test_the_erase_command_erases_name_address_and_on_request_text(world: World, capsys) -> None:
    mine = ContributionFactory(commitment=world.a.commitment, email="camille@example.org", display_name="Camille")
    other = ContributionFactory(commitment=world.a.commitment, email="autre@example.org", display_name="Dominique")
    call_command("erase_contributor", "--email", "Camille@Example.org", "--dry-run")
    assert Contribution.objects.get(pk=mine.pk).display_name == "Camille"
    call_command("erase_contributor", "--email", "Camille@Example.org")
    mine.refresh_from_db()
    assert (mine.email, mine.display_name, mine.is_published) == ("", "", True)
    assert mine.erased_at is not None
    assert not mine.history.exclude(display_name="").exists()
    call_command("erase_contributor", "--contribution", str(mine.pk), "--withdraw")
    mine.refresh_from_db()
    assert mine.state == ContributionState.REJECTED and "Où en est" not in mine.body
    assert not mine.history.filter(body__contains="Où en est").exists()
    other.refresh_from_db()
    assert (other.email, other.display_name) == ("autre@example.org", "Dominique")
    with pytest.raises(CommandError, match="999999"):
        call_command("erase_contributor", "--contribution", "999999")
    with pytest.raises(CommandError):
        call_command("erase_contributor")
