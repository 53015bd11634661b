from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from commitments import services
from commitments.models import ActionPlan, Administration, Axis, Carrier, Commitment, Milestone
from commitments.permissions import can_edit_commitment
from commitments.timeline import plan_timeline
from commitments.workspace import update_view
from opengov.admin_site import WorkspaceAdmin, WorkspaceInline

# Changes per page of a plan's history in the admin.
TIMELINE_PAGE_SIZE = 100


class AxisInline(WorkspaceInline):
    model = Axis
    fields = ["number", "title", "title_is_official", "title_en"]


@admin.register(ActionPlan)
class ActionPlanAdmin(WorkspaceAdmin):
    editors_see = False
    change_form_template = "admin/commitments/actionplan/change_form.html"

    def get_urls(self) -> list:
        own = [
            path(
                "<int:pk>/historique/",
                self.admin_site.admin_view(self.timeline_view),
                name="commitments_actionplan_timeline",
            )
        ]
        return own + super().get_urls()

    def timeline_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Every change to the plan's commitments, with who made it and why: for coordinators."""
        plan = self.get_object(request, str(pk))
        if not self.has_view_permission(request, plan):
            raise PermissionDenied
        page = Paginator(plan_timeline(plan), TIMELINE_PAGE_SIZE).get_page(request.GET.get("page"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("History of the plan “%(title)s”") % {"title": plan.title},
            "opts": self.model._meta,
            "original": plan,
            "page": page,
        }
        return TemplateResponse(request, "admin/commitments/actionplan/timeline.html", context)

    list_display = ["title", "slug", "owner", "start_year", "end_year", "status"]
    list_filter = ["status", "owner"]
    search_fields = ["title", "title_en", "slug", "owner"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [AxisInline]


@admin.register(Axis)
class AxisAdmin(WorkspaceAdmin):
    editors_see = False
    list_display = ["__str__", "plan", "number", "title_is_official"]
    list_filter = ["plan"]
    search_fields = ["title", "title_en"]
    list_select_related = ["plan"]


@admin.register(Administration)
class AdministrationAdmin(WorkspaceAdmin):
    editors_see = False
    list_display = ["name", "short_name", "kind", "name_is_official", "commitment_count"]
    list_filter = ["kind", "name_is_official"]
    search_fields = ["name", "name_en", "short_name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(commitment_count=Count("carriers"))

    @admin.display(description=_("commitments carried"), ordering="commitment_count")
    def commitment_count(self, administration: Administration) -> int:
        return administration.commitment_count


class CarrierInline(WorkspaceInline):
    model = Carrier
    autocomplete_fields = ["administration"]


class MilestoneInline(WorkspaceInline):
    model = Milestone
    fields = ["position", "title", "due_date", "completed_on", "weight", "evidence_url"]


class LateFilter(admin.SimpleListFilter):
    title = _("late")
    parameter_name = "late"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", _("Late")), ("no", _("Not late"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        late = Commitment.objects.late(timezone.localdate()).values("pk")
        if self.value() == "yes":
            return queryset.filter(pk__in=late)
        if self.value() == "no":
            return queryset.exclude(pk__in=late)
        return queryset


def _after_commitment_change(request: HttpRequest, commitment: Commitment) -> None:
    # Milestones and values change the derived progress, and every change the commitment's freshness.
    services.refresh_progress(commitment=commitment)
    services.mark_updated(commitment=commitment, by=request.user)


@admin.register(Commitment)
class CommitmentAdmin(WorkspaceAdmin):
    list_display = ["number", "title", "plan", "axis", "ogp_id", "completion", "progress", "updated_at", "update_link"]
    list_display_links = ["number", "title"]
    list_filter = ["plan", "completion", LateFilter, "title_is_official", "is_verified", "carriers__administration"]
    search_fields = ["title", "title_en", "ogp_id", "summary", "description"]
    list_select_related = ["plan", "axis"]
    readonly_fields = ["progress", "progress_rule", "updated_at", "updated_by"]
    autocomplete_fields = ["predecessor"]
    inlines = [CarrierInline, MilestoneInline]
    fieldsets = [
        (None, {"fields": ["plan", "axis", "axis_is_inferred", "number", "slug", "ogp_id", "other_ogp_ids"]}),
        (_("Wording"), {"fields": ["title", "title_is_official", "title_en", "summary", "description"]}),
        (_("Carriers and links"), {"fields": ["carriers_note", "predecessor", "ogp_values", "start_date", "end_date"]}),
        (
            _("Progress"),
            {"fields": ["completion", "progress_note", "progress", "progress_rule", "updated_at", "updated_by"]},
        ),
        (_("Sources"), {"fields": ["is_verified", "source_note", "sources"]}),
        (_("Why"), {"fields": ["change_reason"]}),
    ]

    def get_urls(self) -> list:
        own = [
            path(
                "<int:pk>/mettre-a-jour/",
                self.admin_site.admin_view(self.update_view),
                name="commitments_commitment_update",
            )
        ]
        return own + super().get_urls()

    def update_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return update_view(request, pk, self.admin_site.each_context(request))

    @admin.display(description=_("everyday update"))
    def update_link(self, commitment: Commitment) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:commitments_commitment_update", args=[commitment.pk]), _("Update")
        )

    def after_change(self, request: HttpRequest, obj: Commitment) -> None:
        if obj.pk is not None:  # a deleted commitment has nothing left to recompute
            _after_commitment_change(request, obj)

    def render_change_form(self, request: HttpRequest, context: dict, *args: Any, **kwargs: Any) -> HttpResponse:
        original = context.get("original")
        context["can_update"] = original is not None and can_edit_commitment(request.user, original)
        return super().render_change_form(request, context, *args, **kwargs)


@admin.register(Carrier)
class CarrierAdmin(WorkspaceAdmin):
    list_display = ["administration", "role", "commitment"]
    list_filter = ["role", "commitment__plan", "administration__kind"]
    search_fields = ["administration__name", "administration__short_name", "commitment__title", "commitment__ogp_id"]
    list_select_related = ["administration", "commitment"]
    autocomplete_fields = ["commitment", "administration"]

    def after_change(self, request: HttpRequest, obj: Carrier) -> None:
        services.mark_updated(commitment=obj.commitment, by=request.user)


@admin.register(Milestone)
class MilestoneAdmin(WorkspaceAdmin):
    list_display = ["title", "commitment", "due_date", "completed_on", "weight"]
    list_filter = ["commitment__plan", ("completed_on", admin.EmptyFieldListFilter)]
    search_fields = ["title", "commitment__title", "commitment__ogp_id"]
    list_select_related = ["commitment"]
    autocomplete_fields = ["commitment"]

    def after_change(self, request: HttpRequest, obj: Milestone) -> None:
        _after_commitment_change(request, obj.commitment)
