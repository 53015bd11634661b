"""The sitemap (commitments/sitemaps.py) lists what Django's own Sitemap lists, in its order, without reading
every row to count them or to keep a file's worth (issue 9)."""

import math
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.contrib.sitemaps import Sitemap, views
from django.db import connection
from django.db.models.signals import post_init
from django.http import Http404
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from commitments.models import Commitment
from commitments.scale_data import Sizes, generate_scale_data
from commitments.sitemaps import SITEMAPS, CommitmentSitemap, PageSitemap, _Bilingual

pytestmark = pytest.mark.django_db

SMALL = Sizes(
    owners=2,
    administrations=10,
    plans=4,
    commitments=40,
    indicators=120,
    values=240,
    forums=6,
    contributions=4,
)
LARGE = SMALL.scaled(4)


def _build(sizes: Sizes, *, replace: bool = False) -> None:
    generate_scale_data(sizes=sizes, seed=1, replace=replace, today=timezone.localdate())


def _stock(section: type[Sitemap]) -> type[Sitemap]:
    """The same section as Django's own Sitemap builds it: every (item, language) pair in a list."""
    return type(f"Stock{section.__name__}", (section,), {"_items": Sitemap._items, "_location": Sitemap._location})


def _file(sitemaps: dict, section: str, page: int) -> bytes:
    request = RequestFactory().get(f"/sitemap-{section}.xml", {"p": page})
    return views.sitemap(request, sitemaps=sitemaps, section=section).render().content


def _index(sitemaps: dict) -> bytes:
    request = RequestFactory().get("/sitemap.xml")
    return views.index(request, sitemaps=sitemaps, sitemap_url_name="sitemap-section").render().content


@contextmanager
def built_instances() -> Iterator[list[object]]:
    """Every model instance built inside the block."""
    built: list[object] = []

    def record(sender: type, instance: object, **kwargs: object) -> None:
        built.append(instance)

    post_init.connect(record)
    try:
        yield built
    finally:
        post_init.disconnect(record)


def test_the_index_and_every_file_are_those_of_djangos_own_sitemap(monkeypatch: pytest.MonkeyPatch) -> None:
    _build(SMALL)
    # An odd limit: a file then ends between the French and the English address of one page.
    monkeypatch.setattr(_Bilingual, "limit", 7)
    stock = {section: _stock(sitemap) for section, sitemap in SITEMAPS.items()}

    index = _index(SITEMAPS)
    assert index == _index(stock)
    for section, sitemap in SITEMAPS.items():
        pages = len(re.findall(rf"/sitemap-{section}\.xml(?:\?p=\d+)?</loc>", index.decode()))
        assert pages == math.ceil(len(sitemap().items()) * 2 / 7), section
        for page in range(1, pages + 1):
            ours = _file(SITEMAPS, section, page)
            assert ours == _file(stock, section, page), (section, page)
            assert ours.count(b"<url>") == 7 or page == pages
            assert ours.count(b'hreflang="x-default"') == ours.count(b"<url>")
        for beyond in [0, pages + 1]:
            with pytest.raises(Http404):
                _file(SITEMAPS, section, beyond)
    # The comparison proves something only across many files.
    assert index.count(b"/sitemap-commitments.xml?p=") == math.ceil(40 * 2 / 7) - 1


def test_a_section_that_is_a_list_is_that_of_djangos_own_sitemap_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_Bilingual, "limit", 3)
    for page in range(1, 7):
        ours = _file({"pages": PageSitemap}, "pages", page)
        assert ours == _file({"pages": _stock(PageSitemap)}, "pages", page), page


def test_the_index_counts_and_a_file_reads_only_its_own_rows(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    _build(SMALL)
    monkeypatch.setattr(CommitmentSitemap, "limit", 10)

    with built_instances() as for_index:
        client.get("/sitemap.xml")
    with built_instances() as for_third_file:
        third = client.get("/sitemap-commitments.xml?p=3").content.decode()

    assert for_index == []
    commitments = [instance for instance in for_third_file if isinstance(instance, Commitment)]
    expected = CommitmentSitemap().items()[10:15]
    assert [c.get_absolute_url() for c in commitments] == [c.get_absolute_url() for c in expected]
    assert third.count("<url>") == 10


def _sitemap_queries(client: Client) -> dict[str, int]:
    counts = {}
    for path in ["/sitemap.xml"] + [f"/sitemap-{section}.xml" for section in SITEMAPS]:
        for page in [1, 2]:
            url = f"{path}?p={page}" if path != "/sitemap.xml" else path
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            assert response.status_code == 200, url
            counts[url] = len(queries)
    return counts


def test_the_sitemap_runs_as_many_queries_with_four_times_the_data(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two files at least in every section, at both sizes.
    monkeypatch.setattr(_Bilingual, "limit", 4)
    _build(SMALL)
    small = _sitemap_queries(client)
    _build(LARGE, replace=True)
    large = _sitemap_queries(client)

    assert large == small
