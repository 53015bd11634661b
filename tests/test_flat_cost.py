"""Flat cost (issue 9): every public page and API list runs as many queries with four times the data.

The synthetic data set (commitments/scale_data.py) is built at two sizes of the same shape; each kind of page
is asked for its busiest object (the plan with the most commitments, the commitment with the most milestones
and indicators...), so that what grows with the data is on the page. The pages are listed in
commitments/scale_pages.py, which bench/scale.sh times too. A count that grows with the data is a
query per row: the first thing that makes a page slow at the scale of every OGP member.
"""

import re
from collections.abc import Callable

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from commitments.models import ActionPlan
from commitments.scale_data import Sizes, generate_scale_data
from commitments.scale_pages import busiest_commitment, pages_to_measure
from commitments.sitemaps import CommitmentSitemap
from commitments.templatetags.opengov import elided_pages
from indicators.models import Indicator

pytestmark = pytest.mark.django_db

SMALL = Sizes(
    owners=3,
    administrations=15,
    plans=6,
    commitments=60,
    indicators=240,
    values=2_400,
    forums=2,
    contributions=40,
)
LARGE = Sizes(**{name: size * 4 for name, size in vars(SMALL).items()})


def _query_counts(client: Client) -> dict[str, int]:
    counts = {}
    for kind, url in pages_to_measure().items():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (kind, url, response.status_code)
        counts[kind] = len(queries)
    return counts


def _build(sizes: Sizes, *, replace: bool) -> None:
    generate_scale_data(sizes=sizes, seed=1, replace=replace, today=timezone.localdate())


def test_every_page_and_api_list_runs_as_many_queries_with_four_times_the_data(client: Client) -> None:
    _build(SMALL, replace=False)
    small = _query_counts(client)
    _build(LARGE, replace=True)
    large = _query_counts(client)

    grown = {kind: (small[kind], large[kind]) for kind in small if large[kind] != small[kind]}
    assert not grown, f"queries (small → four times larger) that grow with the data: {grown}"


def test_the_busiest_objects_do_have_rows_to_show() -> None:
    """The comparison above would prove nothing on empty pages."""
    _build(SMALL, replace=False)
    commitment = busiest_commitment()
    checks: dict[str, Callable[[], int]] = {
        "milestones": commitment.milestones.count,
        "indicators": commitment.indicators.count,
        "carriers": commitment.carriers.count,
        "values": Indicator.objects.annotate(n=Count("values")).order_by("-n").first().values.count,
    }
    counts = {name: count() for name, count in checks.items()}
    assert min(counts.values()) >= 1 and counts["values"] > 1, counts


def test_the_home_page_shows_a_page_of_plans_and_links_few_pages(client: Client) -> None:
    _build(LARGE, replace=False)  # 24 plans: two pages of twelve
    first = client.get("/")
    second = client.get("/?page=2")

    assert len(first.context["page"]) == 12 and len(second.context["page"]) == 12
    shown = {plan.pk for plan in first.context["page"]} | {plan.pk for plan in second.context["page"]}
    assert shown == set(ActionPlan.objects.values_list("pk", flat=True))
    assert 'aria-current="page"' in first.content.decode()


def test_a_long_list_links_the_pages_near_this_one_and_its_ends() -> None:
    page = Paginator(range(1000), 10).get_page(50)
    ellipsis = page.paginator.ELLIPSIS

    assert elided_pages(page) == [1, ellipsis, 48, 49, 50, 51, 52, ellipsis, 100]
    rendered = render_to_string("includes/pagination.html", {"page": page}, request=RequestFactory().get("/"))
    assert re.findall(r'title="Page (\d+)"', rendered) == ["1", "48", "49", "50", "51", "52", "100"]


def test_the_sitemap_is_an_index_of_files_of_bounded_size(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    _build(LARGE, replace=False)  # 240 commitments
    monkeypatch.setattr(CommitmentSitemap, "keys_per_file", 25)

    index = client.get("/sitemap.xml").content.decode()
    files = re.findall(r"<loc>http://testserver(/sitemap-commitments\.xml(?:\?p=\d+)?)</loc>", index)
    # 25 commitments a file at most, each with two addresses (French, English): every one of the 240 is listed once.
    assert len(files) in (10, 11)
    sizes = [client.get(file).content.decode().count("<url>") for file in files]
    assert max(sizes) == 50 and sum(sizes) == 480
