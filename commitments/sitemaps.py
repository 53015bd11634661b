import html

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import x_robots_tag
from django.contrib.sites.shortcuts import get_current_site
from django.db import connection
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import translation

from commitments.models import ActionPlan, Administration, Commitment
from forums.models import Forum
from indicators.models import Indicator
from opengov.addresses import Addresses, escaped_argument


class _Bilingual(Sitemap):
    # Every page exists in French (no prefix) and English (/en/); the sitemap lists both as alternates.
    i18n = True
    alternates = True
    x_default = True
    # /sitemap.xml is an index of files, as the protocol wants past 50,000 addresses. File N of a section lists its
    # items whose key lies between (N - 1) * keys_per_file + 1 and N * keys_per_file, in both languages: at most a
    # thousand addresses. By ranges of keys rather than by counting (issue 9): the index finds a section's files
    # from its first and last key, two probes of the key's index, where a count read every row; a file reads its
    # own range. A file also keeps its items when others are added or deleted, so that a crawler need not read the
    # whole section again.
    keys_per_file = 500
    # The URL of an item's page, by name, and the fields of items() that are its arguments, in its pattern's order.
    route = ""
    fields: tuple[str, ...] = ()

    def __init__(self) -> None:
        super().__init__()
        self._addresses: dict[str, Addresses] = {}
        self._escaped_templates: dict[tuple[str, int], tuple[str, ...]] = {}
        # A file's items repeat their arguments (a plan's slug, the numbers 1 to 30): each is escaped once.
        self._escaped_arguments: dict[object, str] = {}

    def items(self) -> QuerySet | list[tuple[str]]:
        """The section's items: a queryset ordered by its integer key, or a list, whose keys are its positions from
        1 on."""
        raise NotImplementedError

    def key_queries(self) -> list[QuerySet]:
        """The queries of the section's first and last key, which index_file() asks with every other section's in
        one statement; none for a list."""
        items = self.items()
        if not isinstance(items, QuerySet):
            return []
        return [items.order_by("pk").values("pk")[:1], items.order_by("-pk").values("pk")[:1]]

    def files(self, first: int | None = None, last: int | None = None) -> range:
        """The numbers of the section's files, from the one of its first key to the one of its last (those that
        key_queries() found; a list's are its positions): the first alone when the section is empty, as Django's
        paginator allows."""
        items = self.items()
        if not isinstance(items, QuerySet):
            first, last = (1, len(items)) if items else (None, None)
        if first is None or last is None:
            return range(1, 2)
        return range(self._file_of(first), self._file_of(last) + 1)

    def rows(self, number: int) -> list[tuple]:
        """The items of file `number`, in key order, as tuples of `fields`: the arguments of their address. No model
        instance is built for an address."""
        first, last = self._keys_of(number)
        items = self.items()
        if isinstance(items, QuerySet):
            return list(items.filter(pk__gte=first, pk__lte=last).order_by("pk").values_list(*self.fields))
        return items[first - 1 : last]

    def has_items_after(self, number: int) -> bool:
        """Whether an item has a key past file `number`'s range. An empty file before such an item is a range whose
        items were all deleted, which the index may still list: it is a file, empty, rather than one past the end."""
        _, last = self._keys_of(number)
        items = self.items()
        if isinstance(items, QuerySet):
            return items.filter(pk__gt=last).exists()
        return len(items) > last

    def _file_of(self, key: int) -> int:
        return (key - 1) // self.keys_per_file + 1

    def _keys_of(self, number: int) -> tuple[int, int]:
        return (number - 1) * self.keys_per_file + 1, number * self.keys_per_file

    def location(self, item: tuple) -> str:
        # Django's own views ask for this (the tests compare with them); section_file() writes the same addresses
        # from path().
        return reverse(self.route, args=item)

    def path(self, item: tuple, language: str) -> str:
        """The item's address in a language: reverse() once per file and language, then formatting, a twentieth
        of reverse()'s cost per item."""
        return self._addresses_in(language)(self.route, *item)

    def escaped_templates(self, item: tuple, site: str, languages: list[str]) -> tuple[tuple[str, ...], list[str]]:
        """The item's absolute address in each language as a template for str.format(), escaped for XML as
        Django's template escapes the address, and the item's escaped arguments to fill them with. Escaping works
        character by character: the escaped template filled with escaped arguments is the escaped address. The
        templates are those of every item of the section, so that a file writes its XML from them once."""
        key = (site, len(item))
        if key not in self._escaped_templates:
            self._escaped_templates[key] = tuple(
                html.escape(site) + html.escape(self._addresses_in(code).template(self.route, len(item)))
                for code in languages
            )
        escaped = self._escaped_arguments
        for argument in item:
            if argument not in escaped:
                escaped[argument] = escaped_argument(argument)
        return self._escaped_templates[key], [escaped[argument] for argument in item]

    def _addresses_in(self, language: str) -> Addresses:
        if language not in self._addresses:
            self._addresses[language] = Addresses(language=language)
        return self._addresses[language]


class PlanSitemap(_Bilingual):
    route = "commitments:plan"
    fields = ("slug",)

    def items(self) -> QuerySet:
        return ActionPlan.objects.order_by("pk")


class CommitmentSitemap(_Bilingual):
    route = "commitments:detail"
    fields = ("plan__slug", "number")

    def items(self) -> QuerySet:
        return Commitment.objects.order_by("pk")


class AdministrationSitemap(_Bilingual):
    route = "commitments:administration"
    fields = ("slug",)

    def items(self) -> QuerySet:
        return Administration.objects.order_by("pk")


class IndicatorSitemap(_Bilingual):
    route = "indicators:detail"
    fields = ("commitment__plan__slug", "commitment__number", "pk")

    def items(self) -> QuerySet:
        return Indicator.objects.public().order_by("pk")


class ForumSitemap(_Bilingual):
    route = "forums:detail"
    fields = ("pk",)

    def items(self) -> QuerySet:
        return Forum.objects.order_by("pk")


class PageSitemap(_Bilingual):
    def items(self) -> list[tuple[str]]:
        names = [
            "commitments:home",
            "commitments:updates",
            "commitments:data",
            "commitments:accessibility",
            "commitments:legal",
            "commitments:privacy",
            "forums:list",
            "forums:questions",
        ]
        return [(name,) for name in names]

    def location(self, item: tuple[str]) -> str:
        return reverse(item[0])

    def path(self, item: tuple[str], language: str) -> str:
        with translation.override(language):
            return self.location(item)

    def escaped_templates(self, item: tuple[str], site: str, languages: list[str]) -> tuple[tuple[str, ...], list[str]]:
        # Eight pages, each its own address: templates without arguments, their braces doubled.
        escaped = (html.escape(f"{site}{self.path(item, code)}") for code in languages)
        return tuple(address.replace("{", "{{").replace("}", "}}") for address in escaped), []


SITEMAPS = {
    "pages": PageSitemap,
    "plans": PlanSitemap,
    "commitments": CommitmentSitemap,
    "administrations": AdministrationSitemap,
    "indicators": IndicatorSitemap,
    "forums": ForumSitemap,
}


# The files an index may list, by the sitemap protocol: 25 million keys a section, far past any instance.
MAX_FILES = 50_000


def _rows_of_file(sitemap: _Bilingual, number: str) -> list[tuple]:
    """The items of file `number`, and its refusals as Django's view words them."""
    try:
        page = int(number)
    except ValueError:
        raise Http404(f"No page '{number}'") from None
    # Past what an index may list, no file exists: such a key could overflow the database's integers.
    if not 1 <= page <= MAX_FILES:
        raise Http404(f"Page {number} empty")
    rows = sitemap.rows(page)
    # The first file exists even when the section is empty, as Django's paginator allows; past the last key, none.
    if not rows and page > 1 and not sitemap.has_items_after(page):
        raise Http404(f"Page {number} empty")
    return rows


@x_robots_tag
def section_file(request: HttpRequest, section: str) -> HttpResponse:
    """One file of the sitemap, written as django.contrib.sitemaps.views.sitemap writes its items (its template,
    spaceless), byte for byte, but for an x-default Django gets wrong (_pattern), and without the template:
    rendering it took nine tenths of a file of addresses (issue 9).

    The XML of an item is the same string for every item of the section but for the item's arguments: it is
    written once per file as a format string, then filled once per item."""
    if section not in SITEMAPS:
        raise Http404(f"No sitemap available for section: {section!r}")
    sitemap = SITEMAPS[section]()
    rows = _rows_of_file(sitemap, request.GET.get("p", "1"))
    site = f"{request.scheme}://{get_current_site(request).domain}"
    languages = sitemap._languages()
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">\n'
    ]
    # By the item's templates: one for every item of a section but the static pages.
    patterns: dict[tuple[str, ...], str] = {}
    for item in rows:
        templates, arguments = sitemap.escaped_templates(item, site, languages)
        if templates not in patterns:
            patterns[templates] = _pattern(dict(zip(languages, templates, strict=True)))
        parts.append(patterns[templates].format(*arguments))
    parts.append("\n</urlset>\n")
    return HttpResponse("".join(parts), content_type="application/xml")


def _pattern(templates: dict[str, str]) -> str:
    """The <url> elements of an item, one per language, as a format string of its arguments. Each lists the item's
    address in every language, then x-default: the default language's address without its prefix. Django takes the
    prefix off with replace("/fr/", "/", 1) on the whole address, which would also cut an argument "fr" out of an
    address where French has no prefix (this site's): it is taken off the template here, where only the prefix
    can be."""
    default = settings.LANGUAGE_CODE
    alternates = [*templates.items(), ("x-default", templates[default].replace(f"/{default}/", "/", 1))]
    links = "".join(f'<xhtml:link rel="alternate" hreflang="{code}" href="{href}"/>' for code, href in alternates)
    return "".join(f"<url><loc>{template}</loc>{links}</url>" for template in templates.values())


@x_robots_tag
def index_file(request: HttpRequest) -> HttpResponse:
    """The index of the files, as django.contrib.sitemaps.views.index writes it, without its template: a line per
    file, from the one of a section's first key to the one of its last: about a hundred at the scale of every OGP
    member (80 of them for the 40,000 indicators)."""
    site = f"{request.scheme}://{get_current_site(request).domain}"
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
    ]
    for section, files in zip(SITEMAPS, _files_of_sections([sitemap() for sitemap in SITEMAPS.values()]), strict=True):
        location = html.escape(f"{site}{reverse('sitemap-section', kwargs={'section': section})}")
        parts.extend(f"<sitemap><loc>{location}{f'?p={page}' if page > 1 else ''}</loc></sitemap>" for page in files)
    parts.append("\n</sitemapindex>\n")
    return HttpResponse("".join(parts), content_type="application/xml")


def _files_of_sections(sitemaps: list[_Bilingual]) -> list[range]:
    """The files of each section, from the first and last keys of them all, asked in one statement: each probe of a
    key's index is quick, but planning a statement per section (MIN and MAX) cost 0.7 ms each, more than counting
    the reference data's rows did."""
    queries = [sitemap.key_queries() for sitemap in sitemaps]
    parts, params = [], []
    for query in (query for section in queries for query in section):
        sql, query_params = query.query.sql_with_params()
        parts.append(f"({sql})")
        params.extend(query_params)
    keys = iter([])
    if parts:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(parts)}", params)
            keys = iter(cursor.fetchone())
    # Each section takes as many keys as it has queries: two, or none for a list.
    return [sitemap.files(*(next(keys) for _ in section)) for sitemap, section in zip(sitemaps, queries, strict=True)]
