from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from commitments.models import ActionPlan, Axis, Commitment
from commitments.progress import whole_percent
from forums.models import Forum


def home(request: HttpRequest) -> HttpResponse:
    plans = list(ActionPlan.objects.with_progress().order_by("-start_year"))
    for plan in plans:
        plan.progress_percent = whole_percent(plan.progress_average)
    forums = Forum.objects.order_by("-date")[:5]
    return render(request, "commitments/home.html", {"plans": plans, "forums": forums})


def plan_detail(request: HttpRequest, slug: str) -> HttpResponse:
    plan = get_object_or_404(ActionPlan, slug=slug)
    commitments = Commitment.objects.in_plan(plan).with_related()
    axes = list(
        Axis.objects.filter(plan=plan)
        .with_progress()
        .prefetch_related(Prefetch("commitments", queryset=commitments, to_attr="listed_commitments"))
    )
    for axis in axes:
        axis.progress_percent = whole_percent(axis.progress_average)
    without_axis = list(commitments.filter(axis__isnull=True))
    return render(request, "commitments/plan_detail.html", {"plan": plan, "axes": axes, "without_axis": without_axis})
