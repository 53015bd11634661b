import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from indicators.models import Indicator, IndicatorRefreshOutcome
from tests.factories import IndicatorFactory, IndicatorValueFactory

pytestmark = pytest.mark.django_db


def test_an_indicator_has_one_value_per_date() -> None:
    value = IndicatorValueFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        IndicatorValueFactory(indicator=value.indicator, date=value.date)
    IndicatorValueFactory(indicator=value.indicator, date=value.date + datetime.timedelta(days=1))


@pytest.mark.parametrize(
    ("direction", "baseline", "target", "allowed"),
    [
        ("increase", 10, 20, True),
        ("increase", 20, 10, False),
        ("decrease", 20, 10, True),
        ("decrease", 10, 20, False),
        ("increase", 10, 10, False),
    ],
)
def test_the_target_lies_on_the_side_of_the_direction(
    direction: str, baseline: int, target: int, allowed: bool
) -> None:
    create = lambda: IndicatorFactory(  # noqa: E731
        direction=direction, baseline_value=Decimal(baseline), target_value=Decimal(target)
    )
    if allowed:
        create()
    else:
        with pytest.raises(IntegrityError), transaction.atomic():
            create()


def test_a_remote_source_needs_its_url() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        IndicatorFactory(source_format="json", source_url="")
    IndicatorFactory(source_format="json", source_url="https://www.data.gouv.fr/api/1/datasets/")


def test_due_indicators_are_automatic_and_never_read_or_read_an_interval_ago() -> None:
    now = timezone.now()
    never_read = IndicatorFactory(source_format="json", source_url="https://example.org/a.json")
    stale = IndicatorFactory(
        source_format="csv",
        source_url="https://example.org/a.csv",
        last_refresh_at=now - datetime.timedelta(days=2),
        last_refresh_outcome=IndicatorRefreshOutcome.NEW_VALUE,
    )
    IndicatorFactory(
        source_format="csv", source_url="https://example.org/b.csv", last_refresh_at=now - datetime.timedelta(hours=1)
    )
    IndicatorFactory(source_format="manual")

    assert set(Indicator.objects.due(now)) == {never_read, stale}


def test_latest_value_is_the_most_recent_date() -> None:
    indicator = IndicatorFactory()
    IndicatorValueFactory(indicator=indicator, date=datetime.date(2019, 1, 1), value=Decimal(10))
    IndicatorValueFactory(indicator=indicator, date=datetime.date(2020, 1, 1), value=Decimal(30))
    IndicatorValueFactory(indicator=indicator, date=datetime.date(2019, 6, 1), value=Decimal(20))

    annotated = Indicator.objects.with_latest_value().get(pk=indicator.pk)

    assert (annotated.latest_value, annotated.latest_value_date) == (Decimal(30), datetime.date(2020, 1, 1))
