from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from commitments import services
from commitments.models import ActionPlan, Administration, Axis, Carrier, Commitment, Milestone


class AxisInline(admin.TabularInline):
    model = Axis
    extra = 0
    fields = ["number", "title", "title_is_official", "title_en"]


@admin.register(ActionPlan)
class ActionPlanAdmin(SimpleHistoryAdmin):
    list_display = ["title", "slug", "owner", "start_year", "end_year", "status"]
    list_filter = ["status", "owner"]
    search_fields = ["title", "title_en", "slug", "owner"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [AxisInline]


@admin.register(Axis)
class AxisAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "plan", "number", "title_is_official"]
    list_filter = ["plan"]
    search_fields = ["title", "title_en"]
    list_select_related = ["plan"]


@admin.register(Administration)
class AdministrationAdmin(SimpleHistoryAdmin):
    list_display = ["name", "short_name", "kind", "name_is_official", "commitment_count"]
    list_filter = ["kind", "name_is_official"]
    search_fields = ["name", "name_en", "short_name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(commitment_count=Count("carriers"))

    @admin.display(description=_("commitments carried"), ordering="commitment_count")
    def commitment_count(self, administration: Administration) -> int:
        return administration.commitment_count


class CarrierInline(admin.TabularInline):
    model = Carrier
    extra = 0
    autocomplete_fields = ["administration"]


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0
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


@admin.register(Commitment)
class CommitmentAdmin(SimpleHistoryAdmin):
    list_display = ["number", "title", "plan", "axis", "ogp_id", "completion", "progress", "updated_at"]
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
    ]

    def save_related(self, request: HttpRequest, form: object, formsets: object, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # Milestones edited inline change the derived progress: recompute it after they are saved.
        services.refresh_progress(commitment=form.instance)
        services.mark_updated(commitment=form.instance, by=request.user)


@admin.register(Carrier)
class CarrierAdmin(SimpleHistoryAdmin):
    list_display = ["administration", "role", "commitment"]
    list_filter = ["role", "commitment__plan", "administration__kind"]
    search_fields = ["administration__name", "administration__short_name", "commitment__title", "commitment__ogp_id"]
    list_select_related = ["administration", "commitment"]
    autocomplete_fields = ["commitment", "administration"]


@admin.register(Milestone)
class MilestoneAdmin(SimpleHistoryAdmin):
    list_display = ["title", "commitment", "due_date", "completed_on", "weight"]
    list_filter = ["commitment__plan", ("completed_on", admin.EmptyFieldListFilter)]
    search_fields = ["title", "commitment__title", "commitment__ogp_id"]
    list_select_related = ["commitment"]
    autocomplete_fields = ["commitment"]

    def save_model(self, request: HttpRequest, obj: Milestone, form: object, change: bool) -> None:
        super().save_model(request, obj, form, change)
        services.refresh_progress(commitment=obj.commitment)
        services.mark_updated(commitment=obj.commitment, by=request.user)

    def delete_model(self, request: HttpRequest, obj: Milestone) -> None:
        commitment = obj.commitment
        super().delete_model(request, obj)
        services.refresh_progress(commitment=commitment)
