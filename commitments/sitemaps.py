import html
import itertools
from collections.abc import Sequence
from operator import itemgetter

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import x_robots_tag
from django.contrib.sites.shortcuts import get_current_site
from django.db.models import QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import translation

from commitments.models import ActionPlan, Administration, Commitment
from forums.models import Forum
from indicators.models import Indicator
from opengov.addresses import Addresses, escaped_argument


class LanguagePairs:
    """The (item, language) pairs that Django's Sitemap._items() lists with i18n on, in its order (each item,
    then each language), without building that list. Django builds it to paginate it: the index read every row
    of a section to count them, and each file read them all to keep 5,000 (issue 9). Here the count is COUNT
    times the languages, and a file reads only its own rows, as tuples of `fields`: the arguments of their
    address. A section's queryset is ordered by one unique column, its key."""

    def __init__(self, items: QuerySet | Sequence, languages: list[str], fields: Sequence[str] = ()) -> None:
        self.items = items
        self.languages = languages
        self.fields = fields

    def __len__(self) -> int:
        count = self.items.count() if isinstance(self.items, QuerySet) else len(self.items)
        return count * len(self.languages)

    def __getitem__(self, pairs: slice) -> list[tuple[object, str]]:
        # The paginator asks only for slices with both ends (Paginator.page).
        width = len(self.languages)
        first = pairs.start // width
        last = -(-pairs.stop // width)
        if isinstance(self.items, QuerySet):
            # The file's first key, found in the key's index alone by OFFSET, then the file's rows from there on:
            # the rows skipped are neither joined nor read (a join of every key of the file cost three times this
            # at the scale of every OGP member).
            (key,) = self.items.query.order_by
            start = self.items.values(key)[first : first + 1]
            rows = self.items.filter(**{f"{key}__gte": Subquery(start)}).values_list(*self.fields)[: last - first]
        else:
            rows = self.items[first:last]
        expanded = [(item, language) for item in rows for language in self.languages]
        skipped = pairs.start - first * width
        return expanded[skipped : skipped + pairs.stop - pairs.start]


class _Bilingual(Sitemap):
    # Every page exists in French (no prefix) and English (/en/); the sitemap lists both as alternates.
    i18n = True
    alternates = True
    x_default = True
    # Addresses per file (a page in two languages is two): /sitemap.xml is an index of such files, as the protocol
    # wants past 50,000 addresses. A file costs what its addresses cost, so that a few thousand would make it
    # dozens of times the cost of a page (issue 9); the index lists a file per thousand addresses, about a
    # hundred files at the scale of every OGP member, well under the protocol's 50,000.
    limit = 1_000
    # The URL of an item's page, by name, and the fields of items() that are its arguments, in its pattern's order.
    route = ""
    fields: tuple[str, ...] = ()

    def __init__(self) -> None:
        super().__init__()
        self._addresses: dict[str, Addresses] = {}
        self._escaped_templates: dict[tuple[str, int], tuple[str, ...]] = {}
        # A file's items repeat their arguments (a plan's slug, the numbers 1 to 30): each is escaped once.
        self._escaped_arguments: dict[object, str] = {}

    def _items(self) -> LanguagePairs:
        # Every item in every language: the pairs are counted rather than listed, so get_languages_for_item() must
        # not be overridden. items() is ordered by one unique column, or a file could skip or repeat an item; a
        # file reads its items as tuples of the URL's arguments: no model instance is built for an address.
        return LanguagePairs(self.items(), self._languages(), self.fields)

    def location(self, item: tuple) -> str:
        # Django's own views ask for this; section_file() writes the same addresses from path().
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
        return ActionPlan.objects.order_by("slug")


class CommitmentSitemap(_Bilingual):
    route = "commitments:detail"
    fields = ("plan__slug", "number")

    def items(self) -> QuerySet:
        return Commitment.objects.order_by("pk")


class AdministrationSitemap(_Bilingual):
    route = "commitments:administration"
    fields = ("slug",)

    def items(self) -> QuerySet:
        return Administration.objects.order_by("slug")


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


# The files an index may list, by the sitemap protocol.
MAX_FILES = 50_000


def _pairs_of_file(sitemap: _Bilingual, number: str) -> list[tuple[object, str]]:
    """The (item, language) pairs of file `number`, those of Paginator.page(), and its refusals as Django's view
    words them. A file past the end is found empty rather than by counting the section first, a COUNT of every row
    that grew with the data (issue 9)."""
    try:
        page = int(number)
    except ValueError:
        raise Http404(f"No page '{number}'") from None
    # Past what an index may list, no file exists: such an OFFSET could overflow the database's integers.
    if not 1 <= page <= MAX_FILES:
        raise Http404(f"Page {number} empty")
    first = (page - 1) * sitemap.limit
    pairs = sitemap._items()[first : first + sitemap.limit]
    # The first file exists even when the section is empty, as the paginator allows.
    if not pairs and page > 1:
        raise Http404(f"Page {number} empty")
    return pairs


@x_robots_tag
def section_file(request: HttpRequest, section: str) -> HttpResponse:
    """One file of the sitemap, byte for byte what django.contrib.sitemaps.views.sitemap writes (its template,
    spaceless) but for an x-default Django gets wrong (_pattern), written without the template: rendering it took
    nine tenths of a file of addresses (issue 9).

    The XML of an item's pairs is the same string for every item of the section but for the item's arguments:
    it is written once per file as a format string, then filled once per item."""
    if section not in SITEMAPS:
        raise Http404(f"No sitemap available for section: {section!r}")
    sitemap = SITEMAPS[section]()
    pairs = _pairs_of_file(sitemap, request.GET.get("p", "1"))
    site = f"{request.scheme}://{get_current_site(request).domain}"
    languages = sitemap._languages()
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">\n'
    ]
    # By the item's templates and the languages of its pairs in this file: all of them, but where a file starts or
    # ends between the languages of one item.
    patterns: dict[tuple[tuple[str, ...], tuple[str, ...]], str] = {}
    for item, group in itertools.groupby(pairs, key=itemgetter(0)):
        templates, arguments = sitemap.escaped_templates(item, site, languages)
        present = tuple(language for _, language in group)
        if (templates, present) not in patterns:
            patterns[templates, present] = _pattern(dict(zip(languages, templates, strict=True)), present)
        parts.append(patterns[templates, present].format(*arguments))
    parts.append("\n</urlset>\n")
    return HttpResponse("".join(parts), content_type="application/xml")


def _pattern(templates: dict[str, str], present: tuple[str, ...]) -> str:
    """The <url> elements of an item in the languages `present`, as a format string of its arguments. Each lists the
    item's address in every language, then x-default: the default language's address without its prefix. Django
    takes the prefix off with replace("/fr/", "/", 1) on the whole address, which would also cut an argument "fr"
    out of an address where French has no prefix (this site's): it is taken off the template here, where only the
    prefix can be."""
    default = settings.LANGUAGE_CODE
    alternates = [*templates.items(), ("x-default", templates[default].replace(f"/{default}/", "/", 1))]
    links = "".join(f'<xhtml:link rel="alternate" hreflang="{code}" href="{href}"/>' for code, href in alternates)
    return "".join(f"<url><loc>{templates[language]}</loc>{links}</url>" for language in present)


@x_robots_tag
def index_file(request: HttpRequest) -> HttpResponse:
    """The index of the files, byte for byte what django.contrib.sitemaps.views.index writes, without its
    template: a line per file of LIMIT addresses, about a hundred at the scale of every OGP member."""
    site = f"{request.scheme}://{get_current_site(request).domain}"
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
    ]
    for section, sitemap_class in SITEMAPS.items():
        location = html.escape(f"{site}{reverse('sitemap-section', kwargs={'section': section})}")
        pages = sitemap_class().paginator.num_pages
        parts.extend(
            f"<sitemap><loc>{location}{f'?p={page}' if page > 1 else ''}</loc></sitemap>"
            for page in range(1, pages + 1)
        )
    parts.append("\n</sitemapindex>\n")
    return HttpResponse("".join(parts), content_type="application/xml")
