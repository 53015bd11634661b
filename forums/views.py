"""The citizens' side of the dialogue: forums, contributions and how the administrations answer."""

import math
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts.security import client_address
from accounts.security import logger as security_log
from commitments.models import ActionPlan, Administration, Carrier, Commitment
from commitments.views import PAGE_SIZE, crumbs
from commitments.workspace import refusal_to_form
from forums import accountability, services, throttle
from forums.forms import ContributionForm
from forums.models import Contribution, ContributionKind, Forum, published_contributions_prefetch
from opengov.api_output import KeysFirstPaginator


def forum_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    # Counted by a subquery, which the database runs for the page's forums only, rather than by a join that
    # groups every contribution of every forum before the page is cut (issue 9).
    published = (
        Contribution.objects.published()
        .filter(forum=OuterRef("pk"))
        .order_by()
        .values("forum")
        .annotate(count=Count("pk"))
        .values("count")
    )
    counted = Forum.objects.annotate(contribution_count=Coalesce(Subquery(published), 0))
    # Keys first: an OFFSET would count the contributions of every forum it skips.
    page = KeysFirstPaginator(counted.past(today), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "upcoming": list(counted.upcoming(today)),
        "page": page,
        "breadcrumbs": crumbs((_("Open d'État forums"), "")),
    }
    return render(request, "forums/forum_list.html", context)


def forum_detail(request: HttpRequest, pk: int) -> HttpResponse:
    forum = get_object_or_404(
        Forum.objects.prefetch_related(
            # Only what the list names: a commitment's long texts are kilobytes each.
            Prefetch(
                "commitments",
                queryset=Commitment.objects.select_related("plan")
                .only("plan__slug", "number", "title", "title_en")
                .order_by("plan", "number"),
            ),
            published_contributions_prefetch(),
        ),
        pk=pk,
    )
    context = {
        "forum": forum,
        "is_upcoming": forum.date >= timezone.localdate(),
        "breadcrumbs": crumbs((_("Open d'État forums"), reverse("forums:list")), (str(forum), "")),
    }
    return render(request, "forums/forum_detail.html", context)


def _kinds_open(*, commitment: Commitment | None, forum: Forum | None) -> tuple[list[str], str]:
    """The kinds of contribution taken today, and why the others are not."""
    kinds, refusals = [], []
    for kind in ContributionKind.values:
        try:
            services.check_open(kind=kind, commitment=commitment, forum=forum, today=timezone.localdate())
        except ValidationError as error:
            refusals += error.messages
        else:
            kinds.append(kind)
    return kinds, refusals[0] if refusals else ""


def _contribute(
    request: HttpRequest,
    *,
    commitment: Commitment | None,
    forum: Forum | None,
    subject: str,
    back: str,
    breadcrumbs: list[tuple[str, str]],
) -> HttpResponse:
    kinds, closed_note = _kinds_open(commitment=commitment, forum=forum)
    form = ContributionForm(request.POST if request.method == "POST" else None, kinds=kinds)
    context = {
        "form": form,
        "subject": subject,
        "back": back,
        "closed_note": closed_note,
        "commitment": commitment,
        "forum": forum,
        "consultation": commitment.plan.consultation_state(timezone.localdate()) if commitment else "",
        "breadcrumbs": breadcrumbs,
    }
    if request.method == "POST" and kinds:
        wait = throttle.seconds_to_wait(request)
        if wait:
            context["minutes"] = math.ceil(wait / 60)
            response = render(request, "forums/too_many.html", context, status=429)
            response["Retry-After"] = str(wait)
            return response
        if form.is_trap_filled():
            # Robots are thanked like people, so that they learn nothing; nothing is stored.
            security_log.warning("Contribution trap filled: address=%s", client_address(request) or "-")
            return _thanks_redirect(back)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.submit_contribution(
                    kind=data["kind"],
                    body=data["body"],
                    display_name=data["display_name"],
                    email=data["email"],
                    commitment=commitment,
                    forum=forum,
                )
            except ValidationError as error:
                refusal_to_form(form, error)
            else:
                return _thanks_redirect(back)
    return render(request, "forums/contribute.html", context)


def _thanks_redirect(back: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{reverse('forums:thanks')}?{urlencode({'retour': back})}")


@never_cache
def contribute_to_commitment(request: HttpRequest, plan: str, number: int) -> HttpResponse:
    commitment = get_object_or_404(Commitment.objects.select_related("plan"), plan__slug=plan, number=number)
    label = _("Commitment %(number)s") % {"number": commitment.number}
    return _contribute(
        request,
        commitment=commitment,
        forum=None,
        subject=f"{label} — {commitment.title}",
        back=commitment.get_absolute_url(),
        breadcrumbs=crumbs(
            (commitment.plan.title, commitment.plan.get_absolute_url()),
            (label, commitment.get_absolute_url()),
            (_("Contribute"), ""),
        ),
    )


@never_cache
def contribute_to_forum(request: HttpRequest, pk: int) -> HttpResponse:
    forum = get_object_or_404(Forum, pk=pk)
    return _contribute(
        request,
        commitment=None,
        forum=forum,
        subject=str(forum),
        back=forum.get_absolute_url(),
        breadcrumbs=crumbs(
            (_("Open d'État forums"), reverse("forums:list")),
            (str(forum), forum.get_absolute_url()),
            (_("Contribute"), ""),
        ),
    )


def thanks(request: HttpRequest) -> HttpResponse:
    back = request.GET.get("retour", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts=None) or not back.startswith("/"):
        back = reverse("commitments:home")
    return render(request, "forums/thanks.html", {"back": back, "breadcrumbs": crumbs((_("Thank you"), ""))})


@dataclass
class Slice:
    """A page of a list that is never counted: counting the administrations or plans that received a question
    would read every question (issue 9), so the page only knows whether another one follows."""

    rows: list
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def _slice(queryset: QuerySet, number: str) -> Slice:
    try:
        page = max(int(number), 1)
    except ValueError:
        page = 1
    rows = list(queryset[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1])
    return Slice(rows=rows[:PAGE_SIZE], number=page, has_next=len(rows) > PAGE_SIZE)


def questions(request: HttpRequest) -> HttpResponse:
    """Every published question, with the figures that say how the administrations answer.

    The figures come a page of administrations and a page of plans at a time: an instance holding every OGP
    member's plans has some 1,500 administrations and 600 plans that received a question."""
    asked = Contribution.objects.published().questions()
    carriers_asked = Carrier.objects.filter(administration=OuterRef("pk")).filter(
        Exists(asked.filter(commitment=OuterRef("commitment_id")))
    )
    administrations = _slice(
        Administration.objects.filter(Exists(carriers_asked)).order_by("name", "pk"),
        request.GET.get("page_administrations", ""),
    )
    by_administration = accountability.by_administration(a.pk for a in administrations.rows)
    plans = _slice(
        ActionPlan.objects.filter(Exists(asked.filter(commitment__plan=OuterRef("pk")))).order_by(
            "-start_year", "slug"
        ),
        request.GET.get("page_plans", ""),
    )
    by_plan = accountability.by_plan(p.pk for p in plans.rows)
    # The key breaks ties of publication time, many at scale, so that a question is on one page only.
    listed = asked.for_display().order_by("-published_at", "-pk")
    state = request.GET.get("etat", "")
    if state == "repondues":
        listed = listed.answered()
    elif state == "en-attente":
        listed = listed.unanswered()
    administration = None
    if slug := request.GET.get("administration", ""):
        administration = Administration.objects.filter(slug=slug).first()
        if administration is None:
            raise Http404(_("No administration has this identifier."))
        listed = listed.addressed_to(administration.pk)
    context = {
        "administrations": administrations,
        # A question unpublished between the two queries leaves its administration without figures: zero.
        "administration_rows": [
            (a, by_administration.get(a.pk, accountability.Figures())) for a in administrations.rows
        ],
        "plans": plans,
        "plan_rows": [(p, by_plan.get(p.pk, accountability.Figures())) for p in plans.rows],
        # Keys first, from the nearer end: the last of 340 pages of questions took five times the first at the
        # OGP scale, OFFSET joining and sorting every question it skipped.
        "page": KeysFirstPaginator(listed, PAGE_SIZE).get_page(request.GET.get("page")),
        "state": state,
        "administration": administration,
        "breadcrumbs": crumbs((_("Citizens' questions"), "")),
    }
    return render(request, "forums/questions.html", context)
