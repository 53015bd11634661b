"""QuickRows (opengov/api_output.py) writes every answer of the API as the REST framework writes it.

Each list (first page, second page, CSV, searched, filtered) and a detail of each resource is asked twice on the
same data: with the serializers' quick rows, then with the framework's own Serializer.to_representation in
their place. The answers must be the same bytes, in French and in English.
"""

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

LISTS = [
    "plans",
    "axes",
    "administrations",
    "commitments",
    "milestones",
    "indicators",
    "indicator-values",
    "forums",
    "contributions",
]


def _paths() -> list[str]:
    paths = [f"/api/v1/{name}/{query}" for name in LISTS for query in ("", "?page_size=2", "?format=csv")]
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
    paths = _paths()

    quick = _answers(client, paths)
    monkeypatch.setattr(QuickRows, "to_representation", serializers.Serializer.to_representation)
    framework = _answers(client, paths)

    assert all(status == 200 for status, _ in quick.values()), {key: status for key, (status, _) in quick.items()}
    assert quick.keys() == framework.keys()
    different = [key for key in quick if quick[key] != framework[key]]
    assert not different, different
    assert len(quick) == 2 * len(paths) >= 70
