from django.contrib.sitemaps import Sitemap
from django.db.models import QuerySet
from django.urls import reverse

from commitments.models import ActionPlan, Administration, Commitment
from forums.models import Forum
from indicators.models import Indicator


class _Bilingual(Sitemap):
    # Every page exists in French (no prefix) and English (/en/); the sitemap lists both as alternates.
    i18n = True
    alternates = True
    x_default = True
    # Addresses per file (a page in two languages is two): /sitemap.xml is an index of such files, as the protocol
    # wants past 50,000 addresses, and each costs the same to build however many plans the instance holds.
    limit = 5_000


class PlanSitemap(_Bilingual):
    def items(self) -> QuerySet:
        return ActionPlan.objects.order_by("slug")


class CommitmentSitemap(_Bilingual):
    def items(self) -> QuerySet:
        return Commitment.objects.select_related("plan").order_by("plan__slug", "number")


class AdministrationSitemap(_Bilingual):
    def items(self) -> QuerySet:
        return Administration.objects.order_by("slug")


class IndicatorSitemap(_Bilingual):
    def items(self) -> QuerySet:
        return Indicator.objects.public().select_related("commitment__plan").order_by("pk")


class ForumSitemap(_Bilingual):
    def items(self) -> QuerySet:
        return Forum.objects.order_by("pk")


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
