"""The notices of a published contribution, sent by a real Celery worker from a real Redis queue."""

from pathlib import Path

import pytest

from forums import tasks
from forums.models import Contribution, ContributionState
from forums.services import publish_contribution
from tests.factories import CarrierFactory, ContributionFactory, MembershipFactory, UserFactory
from tests.indicators.services import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]


def _messages(folder: Path) -> str:
    return "\n".join(path.read_text(errors="replace") for path in folder.glob("*.log")) if folder.exists() else ""


def test_publishing_queues_the_notices_after_commit_and_the_worker_sends_them(
    broker, celery_processes, tmp_path: Path
) -> None:
    mailbox = tmp_path / "mail"
    carrier = CarrierFactory()
    editor = MembershipFactory(administration=carrier.administration, user__email="redactrice@example.gouv.fr").user
    contribution = ContributionFactory(
        commitment=carrier.commitment, state=ContributionState.PENDING, email="auteur@example.org"
    )
    # django-environ reads the path after "filemail://" as relative unless it starts with a second slash.
    worker = celery_processes("worker", env={"EMAIL_URL": f"filemail:///{mailbox}"})

    publish_contribution(contribution=contribution, by=UserFactory())

    wait_for(
        lambda: "redactrice@example.gouv.fr" in _messages(mailbox) and "auteur@example.org" in _messages(mailbox),
        timeout=60,
        what="the editor's and the author's notices",
    )
    stored = Contribution.objects.get(pk=contribution.pk)
    assert stored.answerers_told_at is not None and stored.author_notice == "published"
    assert editor.email in _messages(mailbox)
    # Queued again (a duplicate delivery, or beat's sweep), the tasks find nothing left to send.
    sent = len(list(mailbox.glob("*.log")))
    tasks.tell_answerers.delay(contribution.pk)
    tasks.tell_author.delay(contribution.pk)
    wait_for(lambda: worker.log().count("succeeded") >= 4, timeout=30, what=f"the repeated tasks:\n{worker.log()}")
    assert len(list(mailbox.glob("*.log"))) == sent
