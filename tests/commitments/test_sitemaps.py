"""The sitemap (commitments/sitemaps.py) writes what Django's own sitemap views write, byte for byte, without
reading every row to count them or to keep a file's worth, nor building a model instance or rendering a
template per address (issue 9)."""

import html
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pytest
from django.contrib.sitemaps import Sitemap, views
from django.db import connection
from django.db.models.signals import post_init
from django.http import Http404
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from commitments.scale_data import Sizes, generate_scale_data
from commitments.sitemaps import SITEMAPS, CommitmentSitemap, PlanSitemap, _Bilingual, index_file, section_file
from opengov.addresses import URL_SAFE

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
    """The same section as Django's own Sitemap builds it: every (item, language) pair in a list, each address
    by reverse(), rendered by its template."""

    def items(self: Sitemap) -> object:
        items = section.items(self)
        return items.values_list(*section.fields) if section.fields else items

    attributes = {"_items": Sitemap._items, "_location": Sitemap._location, "items": items}
    return type(f"Stock{section.__name__}", (section,), attributes)


def _file(sitemaps: dict | None, section: str, page: int) -> bytes:
    """A file as Django's view writes it from `sitemaps`, or as ours does (None)."""
    request = RequestFactory().get(f"/sitemap-{section}.xml", {"p": page})
    if sitemaps is None:
        return section_file(request, section).content
    return views.sitemap(request, sitemaps=sitemaps, section=section).render().content


def _index(sitemaps: dict | None) -> bytes:
    request = RequestFactory().get("/sitemap.xml")
    if sitemaps is None:
        return index_file(request).content
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

    index = _index(None)
    assert index == _index(stock)
    for section, sitemap in SITEMAPS.items():
        pages = len(re.findall(rf"/sitemap-{section}\.xml(?:\?p=\d+)?</loc>", index.decode()))
        assert pages == math.ceil(len(sitemap().items()) * 2 / 7), section
        for page in range(1, pages + 1):
            ours = _file(None, section, page)
            assert ours == _file(stock, section, page), (section, page)
            assert ours.count(b"<url>") == 7 or page == pages
            assert ours.count(b'hreflang="x-default"') == ours.count(b"<url>")
        for beyond in [0, pages + 1, "deux", 10**20]:
            with pytest.raises(Http404):
                _file(None, section, beyond)
    # The comparison proves something only across many files.
    assert index.count(b"/sitemap-commitments.xml?p=") == math.ceil(40 * 2 / 7) - 1


def test_a_section_that_is_a_list_is_that_of_djangos_own_sitemap_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_Bilingual, "limit", 3)
    for page in range(1, 7):
        ours = _file(None, "pages", page)
        assert ours == _file({"pages": _stock(SITEMAPS["pages"])}, "pages", page), page


def test_the_index_counts_and_a_file_reads_only_its_own_rows(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    _build(SMALL)
    monkeypatch.setattr(CommitmentSitemap, "limit", 10)

    with built_instances() as for_index:
        client.get("/sitemap.xml")
    with built_instances() as for_third_file, CaptureQueriesContext(connection) as queries:
        third = client.get("/sitemap-commitments.xml?p=3").content.decode()

    assert for_index == [] and for_third_file == []
    expected = CommitmentSitemap().items().select_related("plan")[10:15]
    french = re.findall(r"<url><loc>http://testserver(/plans/[^<]+)</loc>", third)
    assert french == [commitment.get_absolute_url() for commitment in expected]
    assert third.count("<url>") == 10
    assert any("LIMIT 1 OFFSET 10" in query["sql"] for query in queries.captured_queries)


def test_each_address_is_that_of_the_page_in_each_language() -> None:
    _build(SMALL)

    for section, sitemap_class in SITEMAPS.items():
        sitemap = sitemap_class()
        objects = list(sitemap.items())
        arguments = sitemap.items().values_list(*sitemap.fields) if sitemap.fields else objects
        for page, item in zip(objects, arguments, strict=True):
            for language in ("fr", "en"):
                with translation.override(language):
                    address = page.get_absolute_url() if sitemap.fields else reverse(item[0])
                assert sitemap.path(item, language) == address, (section, item, language)


def test_an_address_is_formatted_as_reverse_writes_it() -> None:
    sitemap = PlanSitemap()

    assert sitemap.path(("2018-2020",), "en") == "/en/plans/2018-2020/"
    # An argument like the placeholders reversed for the pattern is an argument like any other.
    for slug in ["1000000000000", "1000000000001", "{0}"]:
        assert sitemap.path((slug,), "fr") == f"/plans/{quote(slug, safe=URL_SAFE)}/"
    assert sitemap.path(("a b&c",), "fr") == "/plans/a%20b&c/"


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


def test_a_file_escapes_each_argument_as_djangos_template_escapes_the_whole_address() -> None:
    # Arguments the URL patterns refuse today, should a pattern ever accept them: quoted as reverse() quotes them,
    # then escaped, "{0}" included.
    sitemap = PlanSitemap()
    for slug in ["a b&c", "l'été", 'x<y>"z', "{0}", "2018-2020"]:
        templates, arguments = sitemap.escaped_templates((slug,), "http://h&s", ["fr", "en"])
        addresses = [template.format(*arguments) for template in templates]
        assert addresses == [html.escape(f"http://h&s{sitemap.path((slug,), code)}") for code in ["fr", "en"]], slug


def test_the_default_language_of_an_address_is_the_address_without_a_language_prefix() -> None:
    from tests.factories import ActionPlanFactory

    # Django's view takes "/fr/" out of the whole address, wherever it is; French pages have no prefix here.
    ActionPlanFactory(slug="fr")

    ours = _file(None, "plans", 1).decode()

    assert '<xhtml:link rel="alternate" hreflang="x-default" href="http://testserver/plans/fr/"/>' in ours
    assert '<xhtml:link rel="alternate" hreflang="en" href="http://testserver/en/plans/fr/"/>' in ours


def test_a_file_does_not_count_its_section(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    _build(SMALL)
    monkeypatch.setattr(CommitmentSitemap, "limit", 10)

    for page, status in [(1, 200), (8, 200), (9, 404)]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/sitemap-commitments.xml?p={page}")
        assert response.status_code == status, page
        assert not any("COUNT(" in query["sql"] for query in queries.captured_queries), page
