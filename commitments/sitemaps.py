import html
from collections.abc import Sequence

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import x_robots_tag
from django.contrib.sites.shortcuts import get_current_site
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import translation

from commitments.models import ActionPlan, Administration, Commitment
from forums.models import Forum
from indicators.models import Indicator
from opengov.addresses import Addresses


class LanguagePairs:
    """The (item, language) pairs that Django's Sitemap._items() lists with i18n on, in its order (each item,
    then each language), without building that list. Django builds it to paginate it: the index read every row
    of a section to count them, and each file read them all to keep 5,000 (issue 9). Here the count is COUNT
    times the languages, and a file reads only its own rows, by LIMIT/OFFSET on the section's ordered queryset,
    as tuples of `fields`: the arguments of their address."""

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
            # The keys first, without the joins the fields need: the rows skipped by OFFSET are then read from an
            # index, not joined and discarded.
            keys = self.items.values("pk")[first:last]
            rows = self.items.filter(pk__in=keys).values_list(*self.fields)
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

    def _items(self) -> LanguagePairs:
        # Every item in every language: the pairs are counted rather than listed, so get_languages_for_item() must
        # not be overridden. items() is ordered on a unique key, or OFFSET could skip or repeat an item; a file
        # reads its items as tuples of the URL's arguments: no model instance is built for an address.
        return LanguagePairs(self.items(), self._languages(), self.fields)

    def location(self, item: tuple) -> str:
        # Django's own views ask for this; section_file() writes the same addresses from path().
        return reverse(self.route, args=item)

    def path(self, item: tuple, language: str) -> str:
        """The item's address in a language: reverse() once per file and language, then formatting, a twentieth
        of reverse()'s cost per item."""
        if language not in self._addresses:
            self._addresses[language] = Addresses(language=language)
        return self._addresses[language](self.route, *item)


class PlanSitemap(_Bilingual):
    route = "commitments:plan"
    fields = ("slug",)

    def items(self) -> QuerySet:
        return ActionPlan.objects.order_by("slug")


class CommitmentSitemap(_Bilingual):
    route = "commitments:detail"
    fields = ("plan__slug", "number")

    def items(self) -> QuerySet:
        # In the order of the unique index on (plan, number): a file's keys are read from it, not sorted.
        return Commitment.objects.order_by("plan_id", "number")


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


SITEMAPS = {
    "pages": PageSitemap,
    "plans": PlanSitemap,
    "commitments": CommitmentSitemap,
    "administrations": AdministrationSitemap,
    "indicators": IndicatorSitemap,
    "forums": ForumSitemap,
}


@x_robots_tag
def section_file(request: HttpRequest, section: str) -> HttpResponse:
    """One file of the sitemap, byte for byte what django.contrib.sitemaps.views.sitemap writes (its template,
    spaceless), written without the template: rendering it took nine tenths of a file of addresses (issue 9)."""
    if section not in SITEMAPS:
        raise Http404(f"No sitemap available for section: {section!r}")
    sitemap = SITEMAPS[section]()
    page = request.GET.get("p", 1)
    try:
        pairs = sitemap.paginator.page(page).object_list
    except EmptyPage:
        raise Http404(f"Page {page} empty") from None
    except PageNotAnInteger:
        raise Http404(f"No page '{page}'") from None
    site = f"{request.scheme}://{get_current_site(request).domain}"
    languages = sitemap._languages()
    default = settings.LANGUAGE_CODE
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">\n'
    ]
    # Each item's addresses, computed once for its pairs. html.escape() is what Django's escape() calls.
    addresses: dict[tuple, dict[str, str]] = {}
    alternates: dict[tuple, str] = {}
    for item, language in pairs:
        if item not in addresses:
            locations = {code: f"{site}{sitemap.path(item, code)}" for code in languages}
            # As Django writes them: each language, then x-default, the default language's address unprefixed.
            links = [*locations.items(), ("x-default", locations[default].replace(f"/{default}/", "/", 1))]
            addresses[item] = {code: html.escape(location) for code, location in locations.items()}
            alternates[item] = "".join(
                f'<xhtml:link rel="alternate" hreflang="{code}" href="{html.escape(href)}"/>' for code, href in links
            )
        parts.append(f"<url><loc>{addresses[item][language]}</loc>{alternates[item]}</url>")
    parts.append("\n</urlset>\n")
    return HttpResponse("".join(parts), content_type="application/xml")


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
