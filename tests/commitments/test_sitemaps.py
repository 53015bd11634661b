"""The sitemap (commitments/sitemaps.py) writes what Django's own sitemap views write, byte for byte, in files by
ranges of keys: without counting the rows of a section nor skipping them, nor building a model instance or
rendering a template per address (issue 9)."""

import html
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

from commitments.models import Commitment
from commitments.scale_data import Sizes, generate_scale_data
from commitments.sitemaps import SITEMAPS, CommitmentSitemap, PlanSitemap, _Bilingual, index_file, section_file
from forums.models import Contribution
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


def _files(index: bytes, section: str) -> list[int]:
    """The numbers of a section's files that the index lists."""
    found = re.findall(rf"/sitemap-{section}\.xml(?:\?p=(\d+))?</loc>", index.decode())
    return [int(number or 1) for number in found]


def _urls(file: bytes) -> list[bytes]:
    return re.findall(rb"<url>.*?</url>", file)


def test_with_one_file_a_section_the_index_and_files_are_those_of_djangos_own_sitemap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _build(SMALL)
    # Every key in the first range: one file a section, as Django's paginator makes them with its own limit.
    monkeypatch.setattr(_Bilingual, "keys_per_file", 10**9)
    stock = {section: _stock(sitemap) for section, sitemap in SITEMAPS.items()}

    assert _index(None) == _index(stock)
    for section in SITEMAPS:
        ours = _file(None, section, 1)
        assert ours == _file(stock, section, 1), section
        assert ours.count(b'hreflang="x-default"') == ours.count(b"<url>") > 0, section


def test_a_file_lists_the_items_of_its_range_of_keys_and_together_they_are_djangos_sitemap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _build(SMALL)
    monkeypatch.setattr(_Bilingual, "keys_per_file", 7)
    stock = {section: _stock(sitemap) for section, sitemap in SITEMAPS.items()}

    index = _index(None)
    for section, sitemap_class in SITEMAPS.items():
        numbers = _files(index, section)
        items = sitemap_class().items()
        keys = list(items.values_list("pk", flat=True)) if section != "pages" else list(range(1, len(items) + 1))
        # From the file of the first key to the file of the last, each once.
        assert numbers == list(range((keys[0] - 1) // 7 + 1, (keys[-1] - 1) // 7 + 2)), section
        urls = []
        for number in numbers:
            file = _file(None, section, number)
            in_range = [key for key in keys if (number - 1) * 7 < key <= number * 7]
            # Each item of the range, in French then in English.
            assert len(_urls(file)) == 2 * len(in_range), (section, number)
            urls += _urls(file)
        assert urls == _urls(_file(stock, section, 1)), section
        for beyond in [0, numbers[-1] + 1, "deux", 10**20]:
            with pytest.raises(Http404):
                _file(None, section, beyond)
    # The comparison proves something only across many files.
    assert len(_files(index, "commitments")) >= 6


def _first_file_of_commitments(monkeypatch: pytest.MonkeyPatch, keys_per_file: int) -> int:
    """The number of the file of the first commitment, SMALL built with `keys_per_file` keys a file: the keys of a
    test database do not start at 1 (its sequences go on between tests)."""
    _build(SMALL)
    monkeypatch.setattr(_Bilingual, "keys_per_file", keys_per_file)
    first = CommitmentSitemap().items().values_list("pk", flat=True).first()
    return (first - 1) // keys_per_file + 1


def test_the_index_and_a_file_read_only_the_keys_of_their_ranges(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    third = _first_file_of_commitments(monkeypatch, 5) + 2

    with built_instances() as for_index, CaptureQueriesContext(connection) as index_queries:
        client.get("/sitemap.xml")
    with built_instances() as for_third_file, CaptureQueriesContext(connection) as file_queries:
        file = client.get(f"/sitemap-commitments.xml?p={third}").content.decode()

    assert for_index == [] and for_third_file == []
    expected = CommitmentSitemap().items().filter(pk__gt=(third - 1) * 5, pk__lte=third * 5).select_related("plan")
    french = re.findall(r"<url><loc>http://testserver(/plans/[^<]+)</loc>", file)
    assert french == [commitment.get_absolute_url() for commitment in expected] and len(french) == 5
    # Neither counts nor skips rows: the index probes the first and last key of every section in one statement, and
    # a file reads its range.
    queries = [query["sql"] for query in [*index_queries.captured_queries, *file_queries.captured_queries]]
    assert not any("COUNT(" in sql or "OFFSET" in sql for sql in queries)
    probes = [sql for sql in queries if "LIMIT 1)" in sql]
    assert len(probes) == 1 and probes[0].count("LIMIT 1)") == 2 * (len(SITEMAPS) - 1)


def test_a_file_keeps_its_items_when_others_are_deleted_and_an_emptied_range_stays_a_file(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    second = _first_file_of_commitments(monkeypatch, 5) + 1
    third = second + 1
    before = client.get(f"/sitemap-commitments.xml?p={third}").content

    deleted = Commitment.objects.filter(pk__gt=(second - 1) * 5, pk__lte=second * 5)
    Contribution.objects.filter(commitment__in=deleted).delete()
    deleted.delete()

    assert client.get(f"/sitemap-commitments.xml?p={third}").content == before
    emptied = client.get(f"/sitemap-commitments.xml?p={second}")
    assert emptied.status_code == 200 and b"<url>" not in emptied.content
    last = _files(client.get("/sitemap.xml").content, "commitments")[-1]
    assert client.get(f"/sitemap-commitments.xml?p={last + 1}").status_code == 404


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


def _sitemap_queries(client: Client) -> list[int]:
    """The queries of the index, then of each section's first and last file that it lists."""
    with CaptureQueriesContext(connection) as queries:
        index = client.get("/sitemap.xml").content
    counts = [len(queries)]
    for section in SITEMAPS:
        numbers = _files(index, section)
        for number in [numbers[0], numbers[-1]]:
            with CaptureQueriesContext(connection) as queries:
                response = client.get(f"/sitemap-{section}.xml?p={number}")
            assert response.status_code == 200 and b"<url>" in response.content, (section, number)
            counts.append(len(queries))
    return counts


def test_the_sitemap_runs_as_many_queries_with_four_times_the_data(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two files at least in every section, at both sizes.
    monkeypatch.setattr(_Bilingual, "keys_per_file", 2)
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


def test_an_empty_section_is_one_empty_file_as_djangos(client: Client) -> None:
    assert _files(client.get("/sitemap.xml").content, "commitments") == [1]
    first = client.get("/sitemap-commitments.xml")
    assert first.status_code == 200 and b"<url>" not in first.content
    assert client.get("/sitemap-commitments.xml?p=2").status_code == 404
