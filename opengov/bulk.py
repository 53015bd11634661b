"""The whole dataset in one download: every resource of the API in JSON and CSV, with a README."""

import io
import json
import zipfile
from datetime import UTC

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.http import condition, require_GET
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.utils.encoders import JSONEncoder

from commitments.api import AdministrationViewSet, AxisViewSet, CommitmentViewSet, MilestoneViewSet, PlanViewSet
from forums.api import ContributionViewSet, ForumViewSet
from indicators.api import IndicatorValueViewSet, IndicatorViewSet
from opengov.api_output import CSVRenderer
from opengov.middleware import last_data_change

RESOURCES = [
    ("plans", PlanViewSet),
    ("axes", AxisViewSet),
    ("administrations", AdministrationViewSet),
    ("commitments", CommitmentViewSet),
    ("milestones", MilestoneViewSet),
    ("indicators", IndicatorViewSet),
    ("indicator-values", IndicatorValueViewSet),
    ("forums", ForumViewSet),
    ("contributions", ContributionViewSet),
]

README_HEAD = """# opengov — jeu de données complet / full dataset

Licence : Licence Ouverte 2.0 (Etalab), https://www.etalab.gouv.fr/licence-ouverte-open-licence/
Réutilisation libre, en citant la source. / Free reuse, citing the source.

Extrait le / extracted on: {extracted}

Chaque ressource est fournie en JSON (comme l'API /api/v1/) et en CSV (UTF-8, une ligne par objet,
les valeurs imbriquées aplaties en colonnes pointées, les listes séparées par « ; »).
Each resource comes as JSON (as the API /api/v1/ gives it) and as CSV (UTF-8, one row per object,
nested values flattened into dotted columns, lists separated by "; ").

Avancement / progress: weighted share of milestones done, else mean of the public indicators
from baseline to target; null means "not reported", never zero.
"""


def _columns(serializer: serializers.Serializer, prefix: str = "") -> list[tuple[str, str]]:
    """Each column of a resource's CSV with its description, read from the serializer."""
    columns = []
    for name, field in serializer.fields.items():
        column = f"{prefix}{name}"
        if isinstance(field, serializers.Serializer) and not getattr(field, "many", False):
            columns += _columns(field, f"{column}.")
            continue
        text = field.help_text or getattr(field, "label", "") or ""
        columns.append((column, str(text)))
    return columns


def _rows(request: Request, viewset_class: type) -> tuple[list, serializers.Serializer]:
    view = viewset_class()
    view.request, view.format_kwarg, view.kwargs, view.action = request, None, {}, "list"
    queryset = view.get_queryset().order_by(*view.ordering)
    serializer = view.get_serializer(queryset, many=True)
    return serializer.data, serializer.child


def _last_modified(request: HttpRequest) -> object:
    return last_data_change()


@require_GET
@condition(last_modified_func=_last_modified)
def bulk_download(request: HttpRequest) -> HttpResponse:
    api_request = Request(request)
    readme = [README_HEAD.format(extracted=timezone.now().astimezone(UTC).isoformat(timespec="seconds"))]
    archive_bytes = io.BytesIO()
    with zipfile.ZipFile(archive_bytes, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, viewset_class in RESOURCES:
            data, item = _rows(api_request, viewset_class)
            archive.writestr(f"{name}.json", json.dumps(data, cls=JSONEncoder, ensure_ascii=False, indent=1))
            archive.writestr(f"{name}.csv", CSVRenderer().render(data))
            readme.append(f"\n## {name}.json, {name}.csv ({len(data)})\n")
            readme += [f"- `{column}`: {text}" for column, text in _columns(item)]
        archive.writestr("README.md", "\n".join(readme) + "\n")
    response = HttpResponse(archive_bytes.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="opengov-donnees.zip"'
    patch_cache_control(response, public=True, max_age=settings.PUBLIC_CACHE_SECONDS)
    return response
