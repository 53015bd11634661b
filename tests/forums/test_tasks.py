import datetime
import logging

import pytest
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.template import TemplateSyntaxError
from django.utils import timezone
from kombu.exceptions import OperationalError

from accounts.models import MembershipRole
from forums import tasks
from forums.models import Answer, AuthorNotice, Contribution, ContributionState
from tests.factories import AnswerFactory, CarrierFactory, ContributionFactory, MembershipFactory

pytestmark = pytest.mark.django_db

LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


class RefusingBackend(BaseEmailBackend):
    """A mail server that cannot be reached."""

    def send_messages(self, email_messages: list[EmailMessage]) -> int:
        raise ConnectionRefusedError("mail server unreachable")


def _carried_contribution(**fields: object) -> Contribution:
    """A published question whose commitment's administration has one editor."""
    carrier = CarrierFactory()
    MembershipFactory(administration=carrier.administration, role=MembershipRole.EDITOR)
    return ContributionFactory(commitment=carrier.commitment, **fields)


def test_telling_the_author_twice_sends_one_message(mailoutbox: list) -> None:
    contribution = _carried_contribution(email="camille@example.org")

    assert tasks.tell_author(contribution.pk) == AuthorNotice.PUBLISHED
    assert tasks.tell_author(contribution.pk) == "nothing due"

    assert [message.to for message in mailoutbox] == [["camille@example.org"]]
    contribution.refresh_from_db()
    assert contribution.author_notice == AuthorNotice.PUBLISHED


def test_telling_the_answerers_twice_sends_one_round(mailoutbox: list) -> None:
    contribution = _carried_contribution()

    assert tasks.tell_answerers(contribution.pk) == 1
    assert tasks.tell_answerers(contribution.pk) == 0

    assert len(mailoutbox) == 1
    assert Contribution.objects.get().answerers_told_at is not None


def test_what_awaits_moderation_is_told_to_nobody(mailoutbox: list) -> None:
    contribution = _carried_contribution(state=ContributionState.PENDING, email="camille@example.org")

    assert tasks.tell_author(contribution.pk) == "nothing due"
    assert tasks.tell_answerers(contribution.pk) == 0

    assert mailoutbox == []
    stored = Contribution.objects.get()
    assert (stored.author_notice, stored.answerers_told_at) == (AuthorNotice.NONE, None)


def test_a_contribution_gone_or_without_address_is_not_an_error(mailoutbox: list) -> None:
    contribution = _carried_contribution()

    assert tasks.tell_author(contribution.pk) == "no address"
    assert tasks.tell_author(contribution.pk + 1000) == "no address"
    assert tasks.tell_answerers(contribution.pk + 1000) == 0
    assert mailoutbox == []


def test_an_unreachable_mail_server_leaves_the_author_notice_to_the_retry(settings: object, mailoutbox: list) -> None:
    contribution = _carried_contribution(email="camille@example.org")
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"

    with pytest.raises(OSError):
        tasks.tell_author(contribution.pk)

    assert Contribution.objects.get().author_notice == AuthorNotice.NONE
    settings.EMAIL_BACKEND = LOCMEM
    assert tasks.tell_author(contribution.pk) == AuthorNotice.PUBLISHED
    assert [message.to for message in mailoutbox] == [["camille@example.org"]]


def test_an_unreachable_mail_server_keeps_the_address_of_an_author_still_to_be_told_of_the_answer(
    settings: object, mailoutbox: list
) -> None:
    contribution = _carried_contribution(email="camille@example.org", author_notice=AuthorNotice.PUBLISHED)
    AnswerFactory(contribution=contribution, administration=contribution.commitment.carriers.get().administration)
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"

    with pytest.raises(OSError):
        tasks.tell_author(contribution.pk)

    stored = Contribution.objects.get()
    assert (stored.email, stored.author_notice) == ("camille@example.org", AuthorNotice.PUBLISHED)
    settings.EMAIL_BACKEND = LOCMEM
    assert tasks.tell_author(contribution.pk) == AuthorNotice.ANSWERED
    assert Contribution.objects.get().email == ""
    assert len(mailoutbox) == 1


def test_an_unreachable_mail_server_leaves_the_answerers_notice_to_the_retry(
    settings: object, mailoutbox: list
) -> None:
    contribution = _carried_contribution()
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"

    with pytest.raises(OSError):
        tasks.tell_answerers(contribution.pk)

    assert Contribution.objects.get().answerers_told_at is None
    settings.EMAIL_BACKEND = LOCMEM
    assert tasks.tell_answerers(contribution.pk) == 1
    assert len(mailoutbox) == 1


def test_a_notice_that_fails_before_sending_is_not_marked_as_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    contribution = _carried_contribution(email="camille@example.org")

    def half_written(*args: object, **kwargs: object) -> str:
        raise TemplateSyntaxError("Unclosed tag on line 3: 'blocktranslate'.")

    monkeypatch.setattr(tasks, "render_to_string", half_written)

    with pytest.raises(TemplateSyntaxError):
        tasks.tell_author(contribution.pk)
    with pytest.raises(TemplateSyntaxError):
        tasks.tell_answerers(contribution.pk)

    stored = Contribution.objects.get()
    assert (stored.author_notice, stored.answerers_told_at) == (AuthorNotice.NONE, None)


def test_missed_notices_are_queued_again_after_five_minutes(mailoutbox: list) -> None:
    long_ago = timezone.now() - datetime.timedelta(minutes=6)
    just_now = timezone.now() - datetime.timedelta(minutes=4)
    answerers_not_told = _carried_contribution(published_at=long_ago, moderated_at=long_ago)
    author_not_told = _carried_contribution(
        published_at=long_ago, moderated_at=long_ago, answerers_told_at=long_ago, email="camille@example.org"
    )
    # Still in flight, or already done: left alone.
    _carried_contribution(published_at=just_now, moderated_at=just_now, email="recent@example.org")
    _carried_contribution(
        published_at=long_ago,
        moderated_at=long_ago,
        answerers_told_at=long_ago,
        email="told@example.org",
        author_notice=AuthorNotice.PUBLISHED,
    )
    _carried_contribution(state=ContributionState.PENDING, email="pending@example.org")

    assert tasks.queue_missed_notices() == 2

    editors_of = {
        contribution.pk: contribution.commitment.carriers.get().administration.memberships.get().user.email
        for contribution in [answerers_not_told, author_not_told]
    }
    assert sorted(message.to[0] for message in mailoutbox) == sorted(
        [editors_of[answerers_not_told.pk], "camille@example.org"]
    )
    assert Contribution.objects.get(pk=answerers_not_told.pk).answerers_told_at is not None
    assert Contribution.objects.get(pk=author_not_told.pk).author_notice == AuthorNotice.PUBLISHED
    assert tasks.queue_missed_notices() == 0


@pytest.mark.parametrize(
    ("state", "answered", "notice"),
    [
        (ContributionState.REJECTED, False, AuthorNotice.REJECTED),
        (ContributionState.PUBLISHED, True, AuthorNotice.ANSWERED),
    ],
)
def test_missed_rejections_and_answers_reach_their_author(
    mailoutbox: list, state: str, answered: bool, notice: str
) -> None:
    long_ago = timezone.now() - datetime.timedelta(minutes=6)
    contribution = _carried_contribution(
        state=state,
        moderated_at=long_ago,
        answerers_told_at=long_ago,
        email="camille@example.org",
        author_notice=AuthorNotice.PUBLISHED if answered else AuthorNotice.NONE,
    )
    if answered:
        AnswerFactory(contribution=contribution, administration=contribution.commitment.carriers.get().administration)

    assert tasks.queue_missed_notices() == 1

    assert [message.to for message in mailoutbox] == [["camille@example.org"]]
    stored = Contribution.objects.get()
    assert (stored.author_notice, stored.email) == (notice, "")
    assert Answer.objects.count() == int(answered)


def test_a_notice_that_cannot_be_queued_is_logged_and_left_to_the_sweep(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broker_down(*args: object, **kwargs: object) -> None:
        raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(tasks.tell_author, "delay", broker_down)

    with caplog.at_level(logging.WARNING, logger="forums.tasks"):
        tasks.queue_notice(tasks.tell_author, 42)

    assert "42" in caplog.text


def test_the_daily_purge_forgets_expired_addresses(settings: object) -> None:
    settings.CONTRIBUTION_EMAIL_RETENTION_DAYS = 10
    old = ContributionFactory(email="ancien@example.org", created_at=timezone.now() - datetime.timedelta(days=11))
    recent = ContributionFactory(email="recent@example.org", created_at=timezone.now() - datetime.timedelta(days=9))

    assert tasks.purge_expired_emails() == 1

    assert Contribution.objects.get(pk=old.pk).email == ""
    assert Contribution.objects.get(pk=recent.pk).email == "recent@example.org"
