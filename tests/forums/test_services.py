import datetime
from collections.abc import Callable

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from accounts.models import MembershipRole, User
from commitments.models import ActionPlanStatus, Administration, Commitment
from forums import services, tasks
from forums.models import Answer, AuthorNotice, Contribution, ContributionKind, ContributionState
from tests.factories import (
    ActionPlanFactory,
    AdministrationFactory,
    CarrierFactory,
    CommitmentFactory,
    ContributionFactory,
    ForumFactory,
    MembershipFactory,
)
from tests.workspace import World, build_world

pytestmark = pytest.mark.django_db

Capture = Callable[..., object]


def _commitment(status: str = ActionPlanStatus.IN_PROGRESS, **plan: object) -> Commitment:
    return CommitmentFactory(plan=ActionPlanFactory(status=status, **plan))


def _assert_nothing_stored() -> None:
    assert not Contribution.objects.exists()
    assert not Contribution.history.exists()


def _pending(**fields: object) -> Contribution:
    return ContributionFactory(state=ContributionState.PENDING, **fields)


def _editor(administration: Administration, **user: object) -> User:
    return MembershipFactory(administration=administration, role=MembershipRole.EDITOR, **user).user


def _coordinator(**user: object) -> User:
    return MembershipFactory(role=MembershipRole.COORDINATOR, **user).user


# Submitting


def test_a_submitted_contribution_waits_for_moderation_stripped_and_with_its_address_in_lower_case() -> None:
    commitment = _commitment()

    contribution = services.submit_contribution(
        kind=ContributionKind.QUESTION,
        body="  Quand les données seront-elles publiées ?\n",
        commitment=commitment,
        display_name="  Camille  ",
        email="  Camille.Martin@Example.ORG ",
    )

    stored = Contribution.objects.get()
    assert stored == contribution
    assert stored.state == ContributionState.PENDING
    assert (stored.body, stored.display_name) == ("Quand les données seront-elles publiées ?", "Camille")
    assert stored.email == "camille.martin@example.org"
    assert stored.published_at is None
    assert stored.history.count() == 1
    assert not Contribution.objects.published().exists()


@pytest.mark.parametrize("body", ["", "   \n  "])
def test_an_empty_contribution_is_refused(body: str) -> None:
    with pytest.raises(ValidationError) as refused:
        services.submit_contribution(kind=ContributionKind.QUESTION, body=body, commitment=_commitment())

    assert "body" in refused.value.message_dict
    _assert_nothing_stored()


def test_a_contribution_longer_than_4000_characters_is_refused() -> None:
    commitment = _commitment()

    with pytest.raises(ValidationError) as refused:
        services.submit_contribution(kind=ContributionKind.QUESTION, body="a" * 4001, commitment=commitment)

    assert "body" in refused.value.message_dict
    _assert_nothing_stored()
    services.submit_contribution(kind=ContributionKind.QUESTION, body="a" * 4000, commitment=commitment)
    assert Contribution.objects.get().body == "a" * 4000


@pytest.mark.parametrize(
    "body",
    [
        "<script>alert(1)</script>",
        'Voir <a href="https://example.org">ici</a>',
        "<img src=x onerror=alert(1)>",
        "Texte</p><p>suite",
    ],
)
def test_html_tags_are_refused(body: str) -> None:
    with pytest.raises(ValidationError) as refused:
        services.submit_contribution(kind=ContributionKind.QUESTION, body=body, commitment=_commitment())

    assert "body" in refused.value.message_dict
    _assert_nothing_stored()


def test_html_in_the_public_name_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        services.submit_contribution(
            kind=ContributionKind.QUESTION,
            body="Une question.",
            display_name="<b>Camille</b>",
            commitment=_commitment(),
        )

    assert "display_name" in refused.value.message_dict
    _assert_nothing_stored()


@pytest.mark.parametrize("body", ["a < b et 3 > 2", "<3", "Merci <3 pour ce travail", "2 < 3 > 1"])
def test_comparison_signs_and_hearts_are_plain_text(body: str) -> None:
    services.submit_contribution(kind=ContributionKind.QUESTION, body=body, commitment=_commitment())

    assert Contribution.objects.get().body == body


def test_more_than_three_links_are_refused_three_are_accepted() -> None:
    commitment = _commitment()
    three = "Sources : https://a.example.org, http://b.example.org et www.c.example.org"

    with pytest.raises(ValidationError) as refused:
        services.submit_contribution(
            kind=ContributionKind.QUESTION, body=three + " et HTTPS://d.example.org", commitment=commitment
        )

    assert "body" in refused.value.message_dict
    _assert_nothing_stored()
    services.submit_contribution(kind=ContributionKind.QUESTION, body=three, commitment=commitment)
    assert Contribution.objects.count() == 1


@pytest.mark.parametrize("email", ["camille", "camille@", "camille@example", "ca mille@example.org"])
def test_a_bad_address_is_refused(email: str) -> None:
    with pytest.raises(ValidationError) as refused:
        services.submit_contribution(
            kind=ContributionKind.QUESTION, body="Une question.", email=email, commitment=_commitment()
        )

    assert "email" in refused.value.message_dict
    _assert_nothing_stored()


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        services.submit_contribution(kind="complaint", body="Une plainte.", commitment=_commitment())

    assert "kind" in refused.value.message_dict
    _assert_nothing_stored()


def test_a_contribution_about_nothing_is_refused() -> None:
    with pytest.raises(ValidationError):
        services.submit_contribution(kind=ContributionKind.QUESTION, body="Une question.")

    _assert_nothing_stored()


@pytest.mark.parametrize("kind", ContributionKind.values)
def test_a_draft_plan_takes_no_contribution(kind: str) -> None:
    today = timezone.localdate()
    commitment = _commitment(ActionPlanStatus.DRAFT, consultation_opens_on=today, consultation_closes_on=today)

    with pytest.raises(ValidationError) as refused:
        services.submit_contribution(kind=kind, body="Une contribution.", commitment=commitment)

    assert "kind" in refused.value.message_dict
    _assert_nothing_stored()


@pytest.mark.parametrize("status", [ActionPlanStatus.IN_PROGRESS, ActionPlanStatus.CLOSED])
def test_questions_are_taken_on_a_plan_in_progress_or_closed(status: str) -> None:
    services.submit_contribution(kind=ContributionKind.QUESTION, body="Une question.", commitment=_commitment(status))

    assert Contribution.objects.get().kind == ContributionKind.QUESTION


@pytest.mark.parametrize("kind", [ContributionKind.COMMENT, ContributionKind.IDEA])
def test_comments_and_ideas_are_refused_on_a_plan_in_progress(kind: str) -> None:
    with pytest.raises(ValidationError) as refused:
        services.submit_contribution(kind=kind, body="Une idée.", commitment=_commitment())

    assert "kind" in refused.value.message_dict
    _assert_nothing_stored()


@pytest.mark.parametrize("kind", [ContributionKind.COMMENT, ContributionKind.IDEA])
@pytest.mark.parametrize(
    ("opens", "closes"),
    [(0, 10), (-10, 0), (-1, 1), (None, None), (None, 0), (0, None)],
    ids=["first-day", "last-day", "between", "no-dates", "no-opening", "no-closing"],
)
def test_comments_and_ideas_are_taken_while_the_consultation_is_open_both_ends_included(
    kind: str, opens: int | None, closes: int | None
) -> None:
    today = timezone.localdate()
    commitment = _commitment(
        ActionPlanStatus.CONSULTATION,
        consultation_opens_on=None if opens is None else today + datetime.timedelta(days=opens),
        consultation_closes_on=None if closes is None else today + datetime.timedelta(days=closes),
    )

    services.submit_contribution(kind=kind, body="Une idée pour ce plan.", commitment=commitment)

    assert Contribution.objects.get().kind == kind


@pytest.mark.parametrize("kind", [ContributionKind.COMMENT, ContributionKind.IDEA])
def test_a_comment_before_the_consultation_is_refused_saying_when_it_opens(kind: str) -> None:
    today = timezone.localdate()
    opens = today + datetime.timedelta(days=1)
    commitment = _commitment(
        ActionPlanStatus.CONSULTATION,
        consultation_opens_on=opens,
        consultation_closes_on=opens + datetime.timedelta(30),
    )

    with pytest.raises(ValidationError) as refused:
        services.submit_contribution(kind=kind, body="Une idée.", commitment=commitment)

    assert date_format(opens) in refused.value.message_dict["kind"][0]
    _assert_nothing_stored()


@pytest.mark.parametrize("status", [ActionPlanStatus.CONSULTATION, ActionPlanStatus.IN_PROGRESS])
def test_a_comment_after_the_consultation_is_refused_saying_when_it_closed(status: str) -> None:
    today = timezone.localdate()
    closed = today - datetime.timedelta(days=1)
    commitment = _commitment(
        status, consultation_opens_on=closed - datetime.timedelta(days=30), consultation_closes_on=closed
    )

    with pytest.raises(ValidationError) as refused:
        services.submit_contribution(kind=ContributionKind.COMMENT, body="Un commentaire.", commitment=commitment)

    assert date_format(closed) in refused.value.message_dict["kind"][0]
    _assert_nothing_stored()


@pytest.mark.parametrize("kind", ContributionKind.values)
def test_a_forum_takes_every_kind(kind: str) -> None:
    forum = ForumFactory()

    services.submit_contribution(kind=kind, body="Une contribution au forum.", forum=forum)

    stored = Contribution.objects.get()
    assert (stored.kind, stored.forum, stored.commitment) == (kind, forum, None)


# Publishing


def test_publishing_dates_and_signs_the_contribution_and_records_why() -> None:
    contribution = _pending()
    coordinator = _coordinator()

    services.publish_contribution(contribution=contribution, by=coordinator)

    contribution.refresh_from_db()
    assert contribution.state == ContributionState.PUBLISHED
    assert contribution.published_at is not None
    assert contribution.moderated_at == contribution.published_at
    assert contribution.moderated_by == coordinator
    latest = contribution.history.first()
    assert latest.history_user == coordinator
    assert latest.history_change_reason == gettext("Published after moderation.")
    assert latest.state == ContributionState.PUBLISHED


def test_publishing_twice_changes_nothing_the_second_time(
    django_capture_on_commit_callbacks: Capture, mailoutbox: list
) -> None:
    contribution = _pending(email="camille@example.org")
    coordinator = _coordinator()
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_contribution(contribution=contribution, by=coordinator)
    first = Contribution.objects.get()
    sent = len(mailoutbox)
    history = first.history.count()

    with django_capture_on_commit_callbacks(execute=True):
        services.publish_contribution(contribution=contribution, by=_coordinator())

    again = Contribution.objects.get()
    assert (again.published_at, again.moderated_by) == (first.published_at, coordinator)
    assert again.history.count() == history
    assert len(mailoutbox) == sent


def test_the_history_of_contributions_never_holds_the_email_address() -> None:
    historical = Contribution.history.model
    contribution = _pending(email="camille@example.org")

    services.publish_contribution(contribution=contribution, by=_coordinator())

    assert not hasattr(historical, "email")
    assert "email" not in {field.name for field in historical._meta.get_fields()}
    assert "camille@example.org" not in str(list(contribution.history.values()))


def test_nothing_is_sent_before_the_publication_is_committed(
    django_capture_on_commit_callbacks: Capture, mailoutbox: list
) -> None:
    carrier = CarrierFactory()
    _editor(carrier.administration)
    contribution = _pending(commitment=carrier.commitment, email="camille@example.org")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.publish_contribution(contribution=contribution, by=_coordinator())

    assert len(callbacks) == 2
    assert mailoutbox == []


def test_publishing_tells_the_author_and_each_editor_of_the_carrying_administrations_in_a_separate_message(
    django_capture_on_commit_callbacks: Capture, mailoutbox: list
) -> None:
    lead = CarrierFactory()
    support = CarrierFactory(commitment=lead.commitment, role="support")
    editors = [
        _editor(lead.administration),
        _editor(lead.administration),
        _editor(support.administration),
    ]
    _editor(lead.administration, user__is_active=False)
    _editor(lead.administration, user__email="")
    _editor(AdministrationFactory())  # carries nothing here
    _coordinator()  # the carriers' editors answer; coordinators are not disturbed
    contribution = _pending(commitment=lead.commitment, email="camille@example.org")

    with django_capture_on_commit_callbacks(execute=True):
        services.publish_contribution(contribution=contribution, by=_coordinator(user__email=""))

    assert all(len(message.to) == 1 and not message.cc and not message.bcc for message in mailoutbox)
    to_author = [message for message in mailoutbox if message.to == ["camille@example.org"]]
    assert len(to_author) == 1
    assert to_author[0].subject == gettext("Your contribution is published")
    assert contribution.get_absolute_url() in to_author[0].body
    to_editors = [message for message in mailoutbox if message not in to_author]
    assert sorted(message.to[0] for message in to_editors) == sorted(editor.email for editor in editors)
    assert all(contribution.body in message.body for message in to_editors)
    stored = Contribution.objects.get()
    assert stored.author_notice == AuthorNotice.PUBLISHED
    assert stored.answerers_told_at is not None
    assert stored.email == "camille@example.org"  # kept until the answer is sent


def test_a_contribution_on_a_forum_alone_is_sent_to_the_coordinators(
    django_capture_on_commit_callbacks: Capture, mailoutbox: list
) -> None:
    coordinators = [_coordinator(), _coordinator()]
    _coordinator(user__is_active=False)
    _editor(CarrierFactory().administration)
    contribution = _pending(commitment=None, forum=ForumFactory())

    with django_capture_on_commit_callbacks(execute=True):
        services.publish_contribution(contribution=contribution, by=coordinators[0])

    assert sorted(message.to for message in mailoutbox) == sorted([person.email] for person in coordinators)


def test_a_contribution_on_a_commitment_nobody_edits_is_sent_to_the_coordinators(
    django_capture_on_commit_callbacks: Capture, mailoutbox: list
) -> None:
    coordinator = _coordinator()
    contribution = _pending(commitment=CarrierFactory().commitment)

    with django_capture_on_commit_callbacks(execute=True):
        services.publish_contribution(contribution=contribution, by=coordinator)

    assert [message.to for message in mailoutbox] == [[coordinator.email]]


def test_publishing_refuses_a_withdrawn_contribution() -> None:
    contribution = _pending(email="camille@example.org")
    services.erase_contributor(contribution_ids=[contribution.pk], withdraw=True)

    with pytest.raises(ValidationError):
        services.publish_contribution(contribution=contribution, by=_coordinator())

    stored = Contribution.objects.get()
    assert stored.state == ContributionState.REJECTED
    assert stored.published_at is None


# Rejecting


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_rejection_needs_a_reason(reason: str) -> None:
    contribution = _pending(email="camille@example.org")

    with pytest.raises(ValidationError) as refused:
        services.reject_contribution(contribution=contribution, by=_coordinator(), reason=reason)

    assert "reason" in refused.value.message_dict
    stored = Contribution.objects.get()
    assert (stored.state, stored.moderated_by, stored.history.count()) == (ContributionState.PENDING, None, 1)


def test_the_author_of_a_rejected_contribution_is_told_why_with_their_text_then_their_address_is_erased(
    django_capture_on_commit_callbacks: Capture, mailoutbox: list
) -> None:
    contribution = _pending(email="camille@example.org", body="Mon texte, tel que je l'ai écrit.")
    coordinator = _coordinator()

    with django_capture_on_commit_callbacks(execute=True):
        services.reject_contribution(
            contribution=contribution, by=coordinator, reason="  Propos injurieux envers un agent.  "
        )

    (message,) = mailoutbox
    assert message.to == ["camille@example.org"]
    assert message.subject == gettext("Your contribution was not published")
    assert "Propos injurieux envers un agent." in message.body
    assert "Mon texte, tel que je l'ai écrit." in message.body
    stored = Contribution.objects.get()
    assert stored.state == ContributionState.REJECTED
    assert stored.rejection_reason == "Propos injurieux envers un agent."
    assert (stored.moderated_by, stored.published_at) == (coordinator, None)
    assert stored.email == ""
    assert stored.author_notice == AuthorNotice.REJECTED
    assert stored.history.first().history_change_reason == gettext("Rejected after moderation.")


def test_a_rejected_contribution_can_be_published_afterwards() -> None:
    contribution = _pending()
    coordinator = _coordinator()
    services.reject_contribution(contribution=contribution, by=coordinator, reason="Doublon.")

    services.publish_contribution(contribution=contribution, by=coordinator)

    stored = Contribution.objects.get()
    assert stored.state == ContributionState.PUBLISHED
    assert stored.published_at is not None
    assert stored.rejection_reason == ""
    assert list(Contribution.objects.published()) == [stored]


def test_a_published_contribution_can_be_withdrawn_by_rejecting_it() -> None:
    contribution = ContributionFactory()

    services.reject_contribution(contribution=contribution, by=_coordinator(), reason="Retiré : données personnelles.")

    assert not Contribution.objects.published().exists()


# Answering


@pytest.fixture
def world() -> World:
    return build_world()


def test_only_a_published_contribution_can_be_answered(world: World) -> None:
    for state in [ContributionState.PENDING, ContributionState.REJECTED]:
        contribution = ContributionFactory(commitment=world.a.commitment, state=state)

        with pytest.raises(ValidationError):
            services.answer_contribution(
                contribution=contribution, administration=world.a.administration, body="Réponse.", by=world.coordinator
            )

    assert not Answer.objects.exists()


def test_an_editor_answers_for_their_administration_when_it_carries_the_commitment(world: World) -> None:
    contribution = ContributionFactory(commitment=world.a.commitment)

    answer = services.answer_contribution(
        contribution=contribution,
        administration=world.a.administration,
        body="  Les données sont en ligne depuis mars.  ",
        by=world.a.editor,
    )

    stored = Answer.objects.get()
    assert stored == answer
    assert (stored.contribution, stored.administration) == (contribution, world.a.administration)
    assert (stored.body, stored.answered_by, stored.updated_at) == (
        "Les données sont en ligne depuis mars.",
        world.a.editor,
        None,
    )
    recorded = stored.history.get()
    assert (recorded.history_user, recorded.history_administration) == (world.a.editor, world.a.administration)


def test_an_editor_cannot_answer_for_another_administration(world: World) -> None:
    on_a = ContributionFactory(commitment=world.a.commitment)

    attempts = [
        (world.b.editor, world.b.administration),  # B does not carry A's commitment
        (world.b.editor, world.a.administration),  # B's editor does not act for A
        (world.a.editor, world.b.administration),  # A's editor does not act for B
    ]
    for person, administration in attempts:
        with pytest.raises(ValidationError) as refused:
            services.answer_contribution(contribution=on_a, administration=administration, body="Réponse.", by=person)
        assert "administration" in refused.value.message_dict

    assert not Answer.objects.exists()


def test_a_coordinator_answers_for_any_carrier_of_the_commitment_but_no_other_administration(world: World) -> None:
    contribution = ContributionFactory(commitment=world.a.commitment)
    CarrierFactory(commitment=world.a.commitment, administration=world.b.administration, role="support")

    with pytest.raises(ValidationError):
        services.answer_contribution(
            contribution=contribution, administration=AdministrationFactory(), body="Réponse.", by=world.coordinator
        )
    services.answer_contribution(
        contribution=contribution,
        administration=world.b.administration,
        body="Réponse reçue par courrier.",
        by=world.coordinator,
    )

    answer = Answer.objects.get()
    assert (answer.administration, answer.answered_by) == (world.b.administration, world.coordinator)
    assert answer.history.get().history_administration == world.b.administration


def test_on_a_forum_alone_the_coordinator_answers_for_any_administration_and_editors_for_none(world: World) -> None:
    contribution = ContributionFactory(commitment=None, forum=ForumFactory())

    for editor, administration in [(world.a.editor, world.a.administration), (world.b.editor, world.b.administration)]:
        with pytest.raises(ValidationError):
            services.answer_contribution(
                contribution=contribution, administration=administration, body="Réponse.", by=editor
            )
    assert not Answer.objects.exists()

    services.answer_contribution(
        contribution=contribution, administration=world.b.administration, body="Réponse.", by=world.coordinator
    )
    assert Answer.objects.get().administration == world.b.administration


def test_changing_an_answer_needs_a_reason_and_keeps_the_old_text_in_history(world: World) -> None:
    contribution = ContributionFactory(commitment=world.a.commitment)
    services.answer_contribution(
        contribution=contribution, administration=world.a.administration, body="Première réponse.", by=world.a.editor
    )

    with pytest.raises(ValidationError) as refused:
        services.answer_contribution(
            contribution=contribution, administration=world.a.administration, body="Autre réponse.", by=world.a.editor
        )
    assert "reason" in refused.value.message_dict
    assert Answer.objects.get().body == "Première réponse."

    services.answer_contribution(
        contribution=contribution,
        administration=world.a.administration,
        body="Réponse corrigée.",
        by=world.coordinator,
        reason="Date de publication corrigée.",
    )

    answer = Answer.objects.get()
    assert (answer.body, answer.answered_by) == ("Réponse corrigée.", world.a.editor)
    assert answer.updated_at is not None
    old, new = answer.history.order_by("history_id")
    assert (old.body, old.history_user) == ("Première réponse.", world.a.editor)
    assert (new.body, new.history_user, new.history_change_reason) == (
        "Réponse corrigée.",
        world.coordinator,
        "Date de publication corrigée.",
    )
    # The coordinator acted for the answering administration, not for their own.
    assert new.history_administration == world.a.administration


def test_the_author_is_told_of_the_answer_once_and_their_address_is_then_erased(
    world: World, django_capture_on_commit_callbacks: Capture, mailoutbox: list
) -> None:
    contribution = ContributionFactory(
        commitment=world.a.commitment,
        email="camille@example.org",
        author_notice=AuthorNotice.PUBLISHED,
        answerers_told_at=timezone.now(),
    )

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.answer_contribution(
            contribution=contribution,
            administration=world.a.administration,
            body="Le jeu de données est publié.",
            by=world.a.editor,
        )
    for callback in callbacks * 2:  # the queue delivers the task twice
        callback()

    (message,) = mailoutbox
    assert message.to == ["camille@example.org"]
    assert message.subject == gettext("An answer to your contribution")
    assert "Le jeu de données est publié." in message.body
    assert world.a.administration.name in message.body
    stored = Contribution.objects.get()
    assert (stored.email, stored.author_notice) == ("", AuthorNotice.ANSWERED)
    assert tasks.tell_author(contribution.pk) == "no address"
    assert len(mail.outbox) == 1


# Erasing a contributor's data


def test_erasing_by_address_ignores_case_and_clears_the_name_and_address_from_rows_and_history() -> None:
    theirs = [
        ContributionFactory(email="camille@example.org", display_name="Camille M."),
        _pending(email="Camille@Example.ORG", display_name="Camille M."),
    ]
    services.publish_contribution(contribution=theirs[1], by=_coordinator())
    other = ContributionFactory(email="dominique@example.org", display_name="Dominique")

    touched = services.erase_contributor(email="  CAMILLE@example.org ")

    assert touched == 2
    for contribution in theirs:
        contribution.refresh_from_db()
        assert (contribution.email, contribution.display_name) == ("", "")
        assert contribution.erased_at is not None
        assert contribution.state == ContributionState.PUBLISHED  # without withdraw, the text stays on the site
        assert {row.display_name for row in contribution.history.all()} == {""}
    other.refresh_from_db()
    assert (other.email, other.display_name, other.erased_at) == ("dominique@example.org", "Dominique", None)
    assert other.history.get().display_name == "Dominique"


def test_erasing_by_numbers() -> None:
    first, second, untouched = (ContributionFactory(display_name="Camille") for _ in range(3))

    assert services.erase_contributor(contribution_ids=[first.pk, second.pk]) == 2

    assert list(Contribution.objects.filter(display_name="").order_by("pk")) == [first, second]
    assert untouched.history.get().display_name == "Camille"
    assert Contribution.history.filter(display_name="Camille").count() == 1


def test_withdrawing_replaces_the_text_in_the_row_and_its_history_and_takes_it_off_the_site() -> None:
    contribution = _pending(email="camille@example.org", body="Mon texte, à retirer.")
    services.publish_contribution(contribution=contribution, by=_coordinator())

    services.erase_contributor(email="camille@example.org", withdraw=True)

    stored = Contribution.objects.get()
    assert stored.body == services.WITHDRAWN_TEXT
    assert (stored.email, stored.display_name) == ("", "")
    assert (stored.state, stored.published_at) == (ContributionState.REJECTED, None)
    assert stored.rejection_reason
    assert not Contribution.objects.published().exists()
    assert stored.history.count() == 2
    assert {row.body for row in stored.history.all()} == {services.WITHDRAWN_TEXT}


def test_erasing_needs_an_address_or_numbers() -> None:
    ContributionFactory(email="camille@example.org")

    for call in [{}, {"email": "   "}, {"contribution_ids": []}]:
        with pytest.raises(ValidationError):
            services.erase_contributor(**call)

    assert Contribution.objects.get().email == "camille@example.org"


def test_erasing_an_address_nobody_left_touches_nothing() -> None:
    ContributionFactory(email="camille@example.org")

    assert services.erase_contributor(email="inconnu@example.org") == 0

    assert Contribution.objects.get().erased_at is None


# Retention of addresses


def test_addresses_kept_past_their_retention_are_forgotten_and_recent_ones_kept(settings: object) -> None:
    settings.CONTRIBUTION_EMAIL_RETENTION_DAYS = 30
    now = timezone.now()
    old = _pending(email="ancien@example.org", created_at=now - datetime.timedelta(days=31))
    recent = _pending(email="recent@example.org", created_at=now - datetime.timedelta(days=29))

    assert services.purge_expired_emails(now=now) == 1

    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.email, recent.email) == ("", "recent@example.org")
    assert old.body and old.display_name  # only the address goes


# Database guarantees, whatever writes the row


def test_the_database_refuses_a_contribution_about_nothing() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Contribution.objects.create(kind=ContributionKind.QUESTION, body="Sur rien.")


def test_the_database_refuses_a_published_contribution_without_its_date() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Contribution.objects.create(
            kind=ContributionKind.QUESTION, body="Publiée ?", commitment=CommitmentFactory(), state="published"
        )


def test_the_database_refuses_a_rejection_without_a_reason() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Contribution.objects.create(
            kind=ContributionKind.QUESTION, body="Rejetée ?", commitment=CommitmentFactory(), state="rejected"
        )


def test_the_database_refuses_a_text_over_the_limit() -> None:
    commitment = CommitmentFactory()
    Contribution.objects.create(kind=ContributionKind.QUESTION, body="é" * 4000, commitment=commitment)

    with pytest.raises(IntegrityError), transaction.atomic():
        Contribution.objects.create(kind=ContributionKind.QUESTION, body="é" * 4001, commitment=commitment)
