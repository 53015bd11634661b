from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from commitments import services
from indicators.models import Indicator, IndicatorValue


class IndicatorValueInline(admin.TabularInline):
    model = IndicatorValue
    extra = 0
    fields = ["date", "value", "origin", "note", "recorded_by", "recorded_at"]
    readonly_fields = ["date", "value", "origin", "note", "recorded_by", "recorded_at"]
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Indicator | None = None) -> bool:
        # Values are recorded one at a time from their own form, which records who and why.
        return False


@admin.register(Indicator)
class IndicatorAdmin(SimpleHistoryAdmin):
    list_display = ["name", "commitment", "unit", "source_format", "is_public", "last_refresh_outcome", "last_read_at"]
    list_filter = ["source_format", "is_public", "last_refresh_outcome", "commitment__plan"]
    search_fields = ["name", "description", "commitment__title", "commitment__ogp_id"]
    list_select_related = ["commitment"]
    autocomplete_fields = ["commitment"]
    readonly_fields = ["last_refresh_at", "last_refresh_outcome", "last_read_at"]
    inlines = [IndicatorValueInline]


@admin.register(IndicatorValue)
class IndicatorValueAdmin(SimpleHistoryAdmin):
    list_display = ["indicator", "date", "value", "origin", "recorded_by", "recorded_at"]
    list_filter = ["origin", "indicator__commitment__plan"]
    search_fields = ["indicator__name", "note"]
    list_select_related = ["indicator", "recorded_by"]
    autocomplete_fields = ["indicator"]
    date_hierarchy = "date"
    readonly_fields = ["recorded_by", "recorded_at"]

    def save_model(self, request: HttpRequest, obj: IndicatorValue, form: object, change: bool) -> None:
        obj.recorded_by = request.user
        obj.recorded_at = timezone.now()
        super().save_model(request, obj, form, change)
        services.refresh_progress(commitment=obj.indicator.commitment)
        services.mark_updated(commitment=obj.indicator.commitment, by=request.user)
