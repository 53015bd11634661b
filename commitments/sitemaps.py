from collections.abc import Sequence

from django.contrib.sitemaps import Sitemap
from django.db.models import QuerySet
from django.urls import reverse

from commitments.models import ActionPlan, Administration, Commitment
from forums.models import Forum
from indicators.models import Indicator


class LanguagePairs:
    """The (item, language) pairs that Django's Sitemap._items() lists with i18n on, in its order (each item,
    then each language), without building that list. Django builds it to paginate it: the index read every row
    of a section to count them, and each file read them all to keep 5,000 (issue 9). Here the count is COUNT
    times the languages, and a file reads only its own rows, by LIMIT/OFFSET on the section's ordered queryset."""

    def __init__(self, items: QuerySet | Sequence, languages: list[str]) -> None:
        self.items = items
        self.languages = languages

    def __len__(self) -> int:
        count = self.items.count() if isinstance(self.items, QuerySet) else len(self.items)
        return count * len(self.languages)

    def __getitem__(self, pairs: slice) -> list[tuple[object, str]]:
        # The paginator asks only for slices with both ends (Paginator.page).
        width = len(self.languages)
        first = pairs.start // width
        last = -(-pairs.stop // width)
        if isinstance(self.items, QuerySet):
            # The keys first: the rows skipped by OFFSET are then read from an index, not joined and discarded.
            rows = self.items.filter(pk__in=self.items.values("pk")[first:last])
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
    # wants past 50,000 addresses, and each costs the same to build however many plans the instance holds.
    limit = 5_000

    def __init__(self) -> None:
        super().__init__()
        self._locations: dict[tuple[object, str], str] = {}

    def _items(self) -> LanguagePairs:
        # Every item in every language: the pairs are counted rather than listed, so get_languages_for_item() must
        # not be overridden. items() is ordered on a unique key, or OFFSET could skip or repeat an item, and reads
        # only what get_absolute_url() needs: a file builds 2,500 of them.
        return LanguagePairs(self.items(), self._languages())

    def _location(self, item: tuple[object, str], force_lang_code: str | None = None) -> str:
        # Django asks for each address four times (its own, two alternates, x-default), each a reverse() in a
        # language of its own: once per item and language is enough, and takes a quarter off a file of 5,000.
        key = (item[0], force_lang_code or item[1])
        if key not in self._locations:
            self._locations[key] = super()._location(item, force_lang_code)
        return self._locations[key]


class PlanSitemap(_Bilingual):
    def items(self) -> QuerySet:
        return ActionPlan.objects.only("slug").order_by("slug")


class CommitmentSitemap(_Bilingual):
    def items(self) -> QuerySet:
        return Commitment.objects.select_related("plan").only("number", "plan__slug").order_by("plan__slug", "number")


class AdministrationSitemap(_Bilingual):
    def items(self) -> QuerySet:
        return Administration.objects.only("slug").order_by("slug")


class IndicatorSitemap(_Bilingual):
    def items(self) -> QuerySet:
        return (
            Indicator.objects.public()
            .select_related("commitment__plan")
            .only("commitment__number", "commitment__plan__slug")
            .order_by("pk")
        )


class ForumSitemap(_Bilingual):
    def items(self) -> QuerySet:
        return Forum.objects.only("pk").order_by("pk")


class PageSitemap(_Bilingual):
    def items(self) -> list[str]:
        return [
            "commitments:home",
            "commitments:updates",
            "commitments:data",
            "commitments:accessibility",
            "commitments:legal",
            "commitments:privacy",
            "forums:list",
            "forums:questions",
        ]

    def location(self, name: str) -> str:
        return reverse(name)


SITEMAPS = {
    "pages": PageSitemap,
    "plans": PlanSitemap,
    "commitments": CommitmentSitemap,
    "administrations": AdministrationSitemap,
    "indicators": IndicatorSitemap,
    "forums": ForumSitemap,
}
