"""QuickRows (opengov/api_output.py) writes every answer of the API as the REST framework writes it.

Each list (first page, second page, CSV, searched, filtered) and a detail of each resource is asked twice on the
same data: with the serializers' quick rows, then with the framework's own Serializer.to_representation in
their place. The answers must be the same bytes, in French and in English.
"""

import datetime
import enum
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from rest_framework import serializers

from commitments.models import ActionPlan, Administration, Commitment
from commitments.scale_data import Sizes, generate_scale_data
from forums.models import Contribution, Forum
from indicators.models import Indicator
from opengov.api_output import QuickRows

pytestmark = pytest.mark.django_db


def _paths(client: Client) -> list[str]:
    lists = client.get("/api/v1/").json()  # every list the router serves
    paths = [f"/api/v1/{name}/{query}" for name in lists for query in ("", "?page_size=2", "?format=csv")]
    paths += ["/api/v1/commitments/?q=donn%C3%A9es", "/api/v1/commitments/?late=true"]
    paths.append("/api/v1/contributions/?page=last")
    commitment = Commitment.objects.select_related("plan").order_by("pk").first()
    paths.append(f"/api/v1/commitments/{commitment.plan.slug}-{commitment.number}/")
    paths.append(f"/api/v1/plans/{ActionPlan.objects.order_by('pk').first().slug}/")
    paths.append(f"/api/v1/administrations/{Administration.objects.order_by('pk').first().slug}/")
    paths.append(f"/api/v1/forums/{Forum.objects.order_by('pk').first().pk}/")
    paths.append(f"/api/v1/indicators/{Indicator.objects.filter(is_public=True).order_by('pk').first().pk}/")
    answered = Contribution.objects.published().filter(answer__isnull=False).order_by("pk").first()
    waiting = Contribution.objects.published().filter(answer__isnull=True).order_by("pk").first()
    paths += [f"/api/v1/contributions/{answered.pk}/", f"/api/v1/contributions/{waiting.pk}/"]
    return paths


def _answers(client: Client, paths: list[str]) -> dict[tuple[str, str], tuple[int, bytes]]:
    answers = {}
    for path in paths:
        for language in ("fr", "en"):
            cache.clear()  # the page cache would serve the first answer again
            response = client.get(path, HTTP_ACCEPT_LANGUAGE=language)
            answers[path, language] = (response.status_code, response.content)
    return answers


def test_every_answer_of_the_api_is_what_the_framework_writes(
    client: Client, settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.PAGE_CACHE_ENABLED = False
    generate_scale_data(
        sizes=Sizes(
            owners=2, administrations=8, plans=3, commitments=60, indicators=40, values=200, forums=3, contributions=40
        ),
        seed=3,
        replace=False,
        today=timezone.localdate(),
    )
    paths = _paths(client)

    quick = _answers(client, paths)
    monkeypatch.setattr(QuickRows, "to_representation", serializers.Serializer.to_representation)
    framework = _answers(client, paths)

    assert all(status == 200 for status, _ in quick.values()), {key: status for key, (status, _) in quick.items()}
    assert quick.keys() == framework.keys()
    different = [key for key in quick if quick[key] != framework[key]]
    assert not different, different
    assert len(quick) == 2 * len(paths) >= 70


class _Colour(enum.Enum):
    RED = "red"


class _Row(QuickRows, serializers.Serializer):
    flag = serializers.BooleanField()
    day = serializers.DateField()
    hour = serializers.TimeField()
    colour = serializers.ChoiceField(choices=[("red", "Red")])
    count = serializers.IntegerField()
    name = serializers.CharField()
    shown = serializers.SerializerMethodField()

    def get_shown(self, row: object) -> str:
        return f"{row.name}!"


@pytest.mark.parametrize(
    "values",
    [
        # What the database gives.
        {"flag": True, "day": datetime.date(2020, 1, 2), "hour": datetime.time(9, 30), "colour": "red", "count": 3},
        # Anything else goes to the framework's own field: a text boolean, a date or an hour as text, an Enum.
        {"flag": "false", "day": "2020-01-02", "hour": "09:30", "colour": _Colour.RED, "count": "4"},
        {"flag": None, "day": None, "hour": None, "colour": "", "count": None},
    ],
)
def test_a_row_is_the_framework_s_whatever_the_values(values: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    row = SimpleNamespace(name="Étalab", **values)

    quick = _Row(row).data
    monkeypatch.setattr(QuickRows, "to_representation", serializers.Serializer.to_representation)

    assert quick == _Row(row).data
    assert quick["shown"] == "Étalab!"
