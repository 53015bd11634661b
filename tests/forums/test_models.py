import datetime

import pytest
from django.db import IntegrityError, transaction

from forums.models import Forum
from tests.factories import ForumFactory

pytestmark = pytest.mark.django_db


def test_a_forum_number_is_unique_when_known() -> None:
    ForumFactory(number=1)
    ForumFactory(number=None)
    ForumFactory(number=None)

    with pytest.raises(IntegrityError), transaction.atomic():
        ForumFactory(number=1)


def test_upcoming_forums_come_soonest_first_and_past_ones_latest_first() -> None:
    today = datetime.date(2018, 6, 1)
    dates = [
        datetime.date(2018, 3, 12),
        datetime.date(2018, 5, 24),
        datetime.date(2018, 7, 9),
        datetime.date(2018, 9, 13),
    ]
    forums = [ForumFactory(date=date) for date in dates]

    assert list(Forum.objects.upcoming(today)) == forums[2:]
    assert list(Forum.objects.past(today)) == [forums[1], forums[0]]
