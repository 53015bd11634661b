"""E-mails about contributions, sent by Celery after the change that calls for them is committed.

Each task reads the contribution as it is now and works out what is due, so running it twice, or
late, sends nothing twice: the author's last notice and the time the administrations were told are
claimed in the database before sending. A notice that could not be queued (Redis down) is found
again by `queue_missed_notices`, which beat runs every few minutes.
"""

import datetime
import logging
from collections.abc import Callable

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from kombu.exceptions import OperationalError

from accounts.models import MembershipRole, User
from forums import services
from forums.models import AuthorNotice, Contribution, ContributionState

logger = logging.getLogger(__name__)

# A notice not sent this long after its cause was probably lost with the queue: queue it again.
MISSED_AFTER = datetime.timedelta(minutes=5)


def queue_notice(task: Callable, contribution_id: int) -> None:
    """Queue a notice; when the broker is down, say so in the log and leave it to queue_missed_notices."""
    try:
        task.delay(contribution_id)
    except OperationalError as error:
        logger.warning(
            "Notice %s for contribution %s not queued (%s); it will be retried.", task.name, contribution_id, error
        )


def due_author_notice(contribution: Contribution) -> str:
    """What the author should last have been told, given where the contribution stands."""
    if contribution.state == ContributionState.REJECTED:
        return AuthorNotice.REJECTED
    if contribution.state == ContributionState.PUBLISHED:
        return AuthorNotice.ANSWERED if hasattr(contribution, "answer") else AuthorNotice.PUBLISHED
    return AuthorNotice.NONE


def _link(contribution: Contribution) -> str:
    return settings.SITE_URL.rstrip("/") + contribution.get_absolute_url()


def _send(messages: list[EmailMessage]) -> None:
    with get_connection() as connection:
        connection.send_messages(messages)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def tell_author(contribution_id: int) -> str:
    """Tell the author, if they left an address, that their contribution was published, rejected or answered."""
    contribution = Contribution.objects.select_related("answer__administration").filter(pk=contribution_id).first()
    if contribution is None or not contribution.email:
        return "no address"
    notice = due_author_notice(contribution)
    if notice in (AuthorNotice.NONE, contribution.author_notice):
        return "nothing due"
    claimed = Contribution.objects.filter(pk=contribution.pk, author_notice=contribution.author_notice).update(
        author_notice=notice
    )
    if not claimed:
        return "told by another run"
    try:
        with translation.override(settings.LANGUAGE_CODE):
            context = {"contribution": contribution, "link": _link(contribution), "site_url": settings.SITE_URL}
            context["retention_days"] = settings.CONTRIBUTION_EMAIL_RETENTION_DAYS
            subject = render_to_string(f"forums/email/author_{notice}_subject.txt", context).strip()
            body = render_to_string(f"forums/email/author_{notice}.txt", context)
        _send([EmailMessage(subject, body, to=[contribution.email])])
    except Exception:
        # Whatever failed (the mail server, a template), the notice is still due: give the claim back.
        Contribution.objects.filter(pk=contribution.pk).update(author_notice=contribution.author_notice)
        raise
    if notice in (AuthorNotice.REJECTED, AuthorNotice.ANSWERED):
        # The address served to tell the author what became of their contribution: that is done.
        Contribution.objects.filter(pk=contribution.pk).update(email="")
    return notice


def answerers_of(contribution: Contribution) -> list[User]:
    """Who is told of a published contribution: the editors of the administrations that carry its
    commitment; the coordinators when it is on a forum alone or nobody carries it."""
    people = User.objects.filter(is_active=True).exclude(email="")
    if contribution.commitment_id is not None:
        editors = people.filter(
            memberships__role=MembershipRole.EDITOR,
            memberships__administration__carriers__commitment_id=contribution.commitment_id,
        ).distinct()
        if editors.exists():
            return list(editors)
    return list(people.filter(memberships__role=MembershipRole.COORDINATOR).distinct())


def _answerers_messages(contribution: Contribution) -> list[EmailMessage]:
    messages = []
    with translation.override(settings.LANGUAGE_CODE):
        admin_link = settings.SITE_URL.rstrip("/") + reverse("admin:forums_contribution_change", args=[contribution.pk])
        for person in answerers_of(contribution):
            context = {"contribution": contribution, "person": person, "link": _link(contribution)}
            context["admin_link"] = admin_link
            subject = render_to_string("forums/email/answerers_subject.txt", context).strip()
            body = render_to_string("forums/email/answerers.txt", context)
            # One message each: the addresses of colleagues are not handed round.
            messages.append(EmailMessage(subject, body, to=[person.email]))
    return messages


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def tell_answerers(contribution_id: int) -> int:
    """Tell the people who must answer that a contribution was published; returns how many were told."""
    contribution = Contribution.objects.select_related("commitment__plan", "forum").filter(pk=contribution_id).first()
    if contribution is None or not contribution.is_published or contribution.answerers_told_at is not None:
        return 0
    if not Contribution.objects.filter(pk=contribution.pk, answerers_told_at=None).update(
        answerers_told_at=timezone.now()
    ):
        return 0
    try:
        messages = _answerers_messages(contribution)
        _send(messages)
    except Exception:
        # Whatever failed (the mail server, a template), the notice is still due: give the claim back.
        Contribution.objects.filter(pk=contribution.pk).update(answerers_told_at=None)
        raise
    return len(messages)


@shared_task(acks_late=True)
def queue_missed_notices() -> int:
    """Run by beat: queue again the notices whose queuing failed (the broker was down); returns how many."""
    before = timezone.now() - MISSED_AFTER
    answerers = Contribution.objects.published().filter(answerers_told_at=None, published_at__lt=before)
    authors = (
        Contribution.objects.exclude(email="")
        .filter(moderated_at__lt=before)
        .exclude(state=ContributionState.PENDING)
        .filter(
            Q(state=ContributionState.REJECTED) & ~Q(author_notice=AuthorNotice.REJECTED)
            | Q(state=ContributionState.PUBLISHED, answer__isnull=True) & ~Q(author_notice=AuthorNotice.PUBLISHED)
            | Q(state=ContributionState.PUBLISHED, answer__isnull=False) & ~Q(author_notice=AuthorNotice.ANSWERED)
        )
    )
    count = 0
    for contribution_id in answerers.values_list("pk", flat=True)[:500]:
        queue_notice(tell_answerers, contribution_id)
        count += 1
    for contribution_id in authors.values_list("pk", flat=True)[:500]:
        queue_notice(tell_author, contribution_id)
        count += 1
    return count


@shared_task(acks_late=True)
def purge_expired_emails() -> int:
    """Run by beat once a day: forget the authors' addresses kept past their retention."""
    return services.purge_expired_emails(now=timezone.now())
