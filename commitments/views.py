"""The citizens' pages: plans, commitments, administrations, history and search."""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.functional import cached_property
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from commitments.filters import CommitmentFilter
from commitments.models import ActionPlan, Administration, Axis, Carrier, CarrierRole, Commitment, words_match
from commitments.progress import whole_percent
from commitments.timeline import Change, commitment_timeline, latest_changes
from forums import accountability
from forums.models import Forum, published_contributions_prefetch
from indicators.models import Indicator
from opengov.api_output import KeysFirstPaginator

PAGE_SIZE = 30
# Plans on a page of the home page: cards, two a row.
PLANS_PER_PAGE = 12
# The search counts the commitments it finds up to this many: counting every match of a word found in most of
# 10,000 commitments read them all at each search (issue 9). Past it, the page asks for more words.
SEARCH_COUNT_LIMIT = 1000


class LimitedPaginator(KeysFirstPaginator):
    """Counts at most `limit` objects and one more, which says that there are more (`is_limited`). A deep page
    skips keys, not commitments with their lateness."""

    counts_every_row = False

    def __init__(self, object_list: QuerySet, per_page: int, limit: int) -> None:
        super().__init__(object_list, per_page)
        self.limit = limit

    @cached_property
    def count(self) -> int:
        # Unordered: the database stops at the limit wherever the matches are, instead of sorting them all first.
        return self.object_list.order_by()[: self.limit + 1].count()

    @property
    def is_limited(self) -> bool:
        return self.count > self.limit


def crumbs(*links: tuple[str, str]) -> list[tuple[str, str]]:
    """Breadcrumbs from the home page; the last one is the current page."""
    return [(_("Home"), reverse("commitments:home")), *links]


def home(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    # A page of plans, the latest first: an instance may hold many members' plans (issue 9). Keys first: an
    # OFFSET would work out the progress of every plan it skips (11 ms for the last of 50 pages).
    plans = KeysFirstPaginator(
        ActionPlan.objects.with_progress().order_by("-start_year", "title", "pk"), PLANS_PER_PAGE
    )
    page = plans.get_page(request.GET.get("page"))
    for plan in page:
        plan.progress_percent = whole_percent(plan.progress_average)
    context = {
        "page": page,
        "changes": latest_changes(limit=5),
        "next_forum": Forum.objects.upcoming(today).first(),
        "last_forum": Forum.objects.past(today).first(),
    }
    return render(request, "commitments/home.html", context)


def plan_detail(request: HttpRequest, slug: str) -> HttpResponse:
    plan = get_object_or_404(ActionPlan.objects.with_progress(), slug=slug)
    plan.progress_percent = whole_percent(plan.progress_average)
    today = timezone.localdate()
    axes = list(Axis.objects.filter(plan=plan).with_progress())
    for axis in axes:
        axis.progress_percent = whole_percent(axis.progress_average)
    commitments = Commitment.objects.in_plan(plan).with_related().with_lateness(today)
    filters = CommitmentFilter(request.GET or None, queryset=commitments, plan=plan, today=today)
    page = Paginator(filters.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "plan": plan,
        "axes": axes,
        "consultation": plan.consultation_state(today),
        "figures": accountability.by_plan([plan.pk]).get(plan.pk, accountability.Figures()),
        "filters": filters,
        # A filter with a value it cannot take is left out, and the page says which and why.
        "ignored": [(filters.form.fields[name].label, " ".join(errors)) for name, errors in filters.errors.items()]
        if filters.is_bound
        else [],
        "page": page,
        "breadcrumbs": crumbs((plan.title, "")),
    }
    return render(request, "commitments/plan_detail.html", context)


def commitment_detail(request: HttpRequest, plan: str, number: int) -> HttpResponse:
    today = timezone.localdate()
    commitment = get_object_or_404(
        Commitment.objects.select_related("plan", "axis", "updated_by", "predecessor__plan").prefetch_related(
            Prefetch("carriers", queryset=Carrier.objects.shown()),
            Prefetch("successors", queryset=Commitment.objects.select_related("plan")),
            "milestones",
            Prefetch(
                "indicators", queryset=Indicator.objects.public().with_latest_value(), to_attr="public_indicators"
            ),
            Prefetch("forums", queryset=Forum.objects.order_by("date")),
            published_contributions_prefetch(),
        ),
        plan__slug=plan,
        number=number,
    )
    milestones = list(commitment.milestones.all())
    for milestone in milestones:
        milestone.state = "done" if milestone.is_done else "late" if milestone.is_late(today) else "upcoming"
    context = {
        "commitment": commitment,
        "milestones": milestones,
        "is_late": any(milestone.state == "late" for milestone in milestones),
        "consultation": commitment.plan.consultation_state(today),
        "breadcrumbs": crumbs(
            (commitment.plan.title, reverse("commitments:plan", args=[commitment.plan.slug])),
            (_("Commitment %(number)s") % {"number": commitment.number}, ""),
        ),
    }
    return render(request, "commitments/commitment_detail.html", context)


def commitment_history(request: HttpRequest, plan: str, number: int) -> HttpResponse:
    commitment = get_object_or_404(Commitment.objects.select_related("plan"), plan__slug=plan, number=number)
    context = {
        "commitment": commitment,
        "changes": commitment_timeline(commitment),
        "breadcrumbs": crumbs(
            (commitment.plan.title, reverse("commitments:plan", args=[commitment.plan.slug])),
            (_("Commitment %(number)s") % {"number": commitment.number}, commitment.get_absolute_url()),
            (_("History"), ""),
        ),
    }
    return render(request, "commitments/commitment_history.html", context)


def administration_detail(request: HttpRequest, slug: str) -> HttpResponse:
    administration = get_object_or_404(Administration, slug=slug)
    carriers = (
        Carrier.objects.filter(administration=administration)
        .select_related("commitment__plan", "commitment__axis")
        .order_by("-commitment__plan__start_year", "commitment__number")
    )
    context = {
        "administration": administration,
        "led": [carrier.commitment for carrier in carriers if carrier.role == CarrierRole.LEAD],
        "supported": [carrier.commitment for carrier in carriers if carrier.role == CarrierRole.SUPPORT],
        "figures": accountability.by_administration([administration.pk]).get(
            administration.pk, accountability.Figures()
        ),
        "breadcrumbs": crumbs((administration.name, "")),
    }
    return render(request, "commitments/administration_detail.html", context)


def updates(request: HttpRequest) -> HttpResponse:
    context = {"changes": latest_changes(limit=50), "breadcrumbs": crumbs((_("Latest updates"), ""))}
    return render(request, "commitments/updates.html", context)


class UpdatesFeed(Feed):
    feed_type = Atom1Feed
    title = gettext_lazy("Open government commitments: latest updates")
    subtitle = gettext_lazy("Every public change to the commitments, their milestones, indicators and values.")

    def link(self) -> str:
        return reverse("commitments:updates")

    def items(self) -> list[Change]:
        return latest_changes(limit=50)

    def item_title(self, change: Change) -> str:
        return f"{change.commitment.plan.slug} — {change.commitment}: {change.subject} ({change.action})"

    def item_description(self, change: Change) -> str:
        lines = [f"{field.label} : {field.old} → {field.new}" for field in change.fields]
        if change.reason:
            lines.append(_("Reason: %(reason)s") % {"reason": change.reason})
        return "\n".join(lines)

    def item_link(self, change: Change) -> str:
        return reverse("commitments:history", args=[change.commitment.plan.slug, change.commitment.number])

    def item_guid(self, change: Change) -> str:
        return f"{self.item_link(change)}#{change.at.isoformat()}-{change.subject}"

    def item_pubdate(self, change: Change) -> object:
        return change.at

    def item_author_name(self, change: Change) -> str | None:
        return change.administration.name if change.administration else None


def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    plans = commitments = indicators = []
    if query:
        plans = ActionPlan.objects.filter(words_match(["title", "title_en", "slug"], query))[:20]
        # Late like on the plan's page: the cards say so.
        matching = Commitment.objects.matching(query).with_related().with_lateness(timezone.localdate())
        commitments = LimitedPaginator(matching, PAGE_SIZE, SEARCH_COUNT_LIMIT).get_page(request.GET.get("page"))
        indicators = (
            Indicator.objects.public()
            .filter(words_match(["name", "description"], query))
            .select_related("commitment__plan")[:20]
        )
    context = {
        "query": query,
        "plans": plans,
        "page": commitments,
        "indicators": indicators,
        "breadcrumbs": crumbs((_("Search"), "")),
    }
    return render(request, "commitments/search.html", context)


def static_page(request: HttpRequest, name: str, title: str) -> HttpResponse:
    """A page of prose, written in each language as a whole rather than sentence by sentence."""
    language = "en" if get_language() == "en" else "fr"
    context = {
        "title": title,
        "publisher": settings.SITE_PUBLISHER,
        "contact_email": settings.SITE_CONTACT_EMAIL,
        "retention_days": settings.CONTRIBUTION_EMAIL_RETENTION_DAYS,
        "breadcrumbs": crumbs((title, "")),
    }
    return render(request, f"pages/{name}.{language}.html", context)


def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = ["User-agent: *", "Disallow: /admin/", f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}"]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")
