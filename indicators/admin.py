from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from commitments import services
from commitments.permissions import can_edit_reference
from indicators import services as indicator_services
from indicators.admin_import import ValueImportAdminMixin
from indicators.fetch import SourceError
from indicators.models import Indicator, IndicatorRefresh, IndicatorRefreshTrigger, IndicatorValue, plain_number
from indicators.permissions import can_record_value
from indicators.refresh import KEPT_REFRESHES, read_value
from indicators.sources import COMPUTATIONS, check_source, describe_source
from indicators.tasks import QueueUnavailable, queue_refreshes
from opengov.admin_site import ReasonForm, ScopedAdminMixin, WorkspaceAdmin, WorkspaceInline, YearFilter

# How many of an indicator's latest refreshes its page lists, the full log one click away: those the log's retention
# always keeps, so that the page shows as many, however long ago they ran.
RECENT_REFRESHES = KEPT_REFRESHES


class IndicatorValueInline(WorkspaceInline):
    model = IndicatorValue
    fields = ["date", "value", "origin", "note", "recorded_by", "recorded_at"]
    readonly_fields = ["date", "value", "origin", "note", "recorded_by", "recorded_at"]
    can_delete = False
    show_change_link = True

    # Values are recorded on the commitment's update page or imported, through the services that check them.
    def has_add_permission(self, request: HttpRequest, obj: Indicator | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Indicator | None = None) -> bool:
        return False


class IndicatorAdminForm(ReasonForm):
    """The admin builds the form's fields from the fieldsets, when a page asks for it (not at import)."""

    def _post_clean(self) -> None:
        super()._post_clean()
        # The source is checked as it will be read: the URL's form and where its host leads, the path or column.
        for field, message in check_source(self.instance).items():
            if field in self.fields and field not in self.errors:
                self.add_error(field, message)


@admin.register(Indicator)
class IndicatorAdmin(WorkspaceAdmin):
    form = IndicatorAdminForm
    list_display = [
        "name",
        "commitment",
        "unit",
        "source_format",
        "is_public",
        "last_refresh_outcome",
        "last_read_at",
        "failing",
    ]
    list_filter = ["source_format", "is_public", "last_refresh_outcome", "commitment__plan"]
    search_fields = ["name", "description", "commitment__title", "commitment__ogp_id"]
    list_select_related = ["commitment"]
    autocomplete_fields = ["commitment"]
    readonly_fields = [
        "last_refresh_at",
        "last_refresh_outcome",
        "last_refresh_message",
        "last_read_at",
        "consecutive_failures",
        "recent_refreshes",
    ]
    fieldsets = [
        (None, {"fields": ["commitment", "name", "unit", "description", "is_public", "sources"]}),
        (
            gettext_lazy("Baseline, target and bounds"),
            {
                "fields": [
                    ("baseline_value", "baseline_date"),
                    ("target_value", "target_date"),
                    "direction",
                    ("minimum_value", "maximum_value"),
                ]
            },
        ),
        (
            gettext_lazy("Source"),
            {
                "fields": [
                    "source_format",
                    "source_url",
                    "source_selector",
                    "source_row_rule",
                    ("source_match_column", "source_match_value"),
                    "refresh_interval",
                ]
            },
        ),
        (
            gettext_lazy("Refreshes"),
            {
                "fields": [
                    ("last_refresh_at", "last_refresh_outcome", "consecutive_failures"),
                    "last_refresh_message",
                    "last_read_at",
                    "recent_refreshes",
                ]
            },
        ),
        (gettext_lazy("Why"), {"fields": ["change_reason"]}),
    ]
    inlines = [IndicatorValueInline]
    actions = ["refresh_now"]

    def get_form(self, request: HttpRequest, obj: Indicator | None = None, **kwargs: object) -> type[forms.ModelForm]:
        kwargs.setdefault(
            "help_texts",
            {
                "source_selector": _(
                    "JSON: the path to the number (data.total, results[0].value). CSV: the column. "
                    "Computed: one of %(names)s."
                )
                % {"names": ", ".join(COMPUTATIONS)}
            },
        )
        return super().get_form(request, obj, **kwargs)

    @admin.display(description=gettext_lazy("failing"), boolean=True, ordering="consecutive_failures")
    def failing(self, indicator: Indicator) -> bool:
        return indicator.is_failing

    @admin.display(description=gettext_lazy("latest refreshes"))
    def recent_refreshes(self, indicator: Indicator) -> str:
        if indicator.pk is None:
            return "—"
        refreshes = indicator.refreshes.all()[:RECENT_REFRESHES]
        if not refreshes:
            return _("None yet.")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} ms</td><td>{}</td></tr>",
            (
                (
                    timezone.localtime(r.started_at).strftime("%d/%m/%Y %H:%M:%S"),
                    r.get_trigger_display(),
                    r.get_outcome_display(),
                    r.duration_ms,
                    r.message,
                )
                for r in refreshes
            ),
        )
        everything = reverse("admin:indicators_indicatorrefresh_changelist") + f"?indicator__id__exact={indicator.pk}"
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            '<tbody>{}</tbody></table><p><a href="{}">{}</a></p>',
            _("Started"),
            _("Trigger"),
            _("Outcome"),
            _("Duration"),
            _("Message"),
            rows,
            everything,
            _("Every refresh of this indicator"),
        )

    def get_urls(self) -> list:
        own = [
            path(
                "<int:pk>/tester-la-source/",
                self.admin_site.admin_view(require_POST(self.test_source_view)),
                name="indicators_indicator_test_source",
            ),
            path(
                "<int:pk>/rafraichir/",
                self.admin_site.admin_view(require_POST(self.refresh_now_view)),
                name="indicators_indicator_refresh_now",
            ),
        ]
        return own + super().get_urls()

    def _changeable(self, request: HttpRequest, pk: int) -> Indicator:
        indicator = get_object_or_404(self.get_queryset(request).select_related("commitment"), pk=pk)
        if not can_record_value(request.user, indicator):
            raise PermissionDenied
        return indicator

    def has_refresh_permission(self, request: HttpRequest) -> bool:
        """Editors refresh the indicators of their commitments (the list holds no others)."""
        return self.has_view_permission(request)

    def render_change_form(self, request: HttpRequest, context: dict, *args: object, **kwargs: object) -> HttpResponse:
        original = context.get("original")
        context["can_refresh"] = original is not None and can_record_value(request.user, original)
        return super().render_change_form(request, context, *args, **kwargs)

    def after_change(self, request: HttpRequest, obj: Indicator) -> None:
        # A new baseline, target or public flag changes the commitment's progress.
        if obj.pk is not None:
            services.refresh_progress(commitment=obj.commitment)
            services.mark_updated(commitment=obj.commitment, by=request.user)

    def test_source_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Read the saved source once and show what a refresh would record; nothing is recorded."""
        indicator = self._changeable(request, pk)
        value, error = None, None
        try:
            value = read_value(indicator)
        except SourceError as failure:
            error = failure.message
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": indicator,
            "title": _("Test of the source of “%(name)s”") % {"name": indicator.name},
            "source": describe_source(indicator),
            "value": plain_number(value) if value is not None else None,
            "error": error,
            "latest": indicator.values.order_by("-date").first(),
        }
        return TemplateResponse(request, "admin/indicators/indicator/test_source.html", context)

    def refresh_now_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        indicator = self._changeable(request, pk)
        self._queue(request, Indicator.objects.filter(pk=indicator.pk))
        return HttpResponseRedirect(reverse("admin:indicators_indicator_change", args=[indicator.pk]))

    @admin.action(description=gettext_lazy("Refresh now from their sources"), permissions=["refresh"])
    def refresh_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._queue(request, queryset)

    def _queue(self, request: HttpRequest, queryset: QuerySet) -> None:
        automatic = list(queryset.automatic().values_list("pk", flat=True))
        skipped = queryset.count() - len(automatic)
        if skipped:
            messages.warning(
                request, _("%(count)s indicator(s) entered by people have no source to read.") % {"count": skipped}
            )
        if not automatic:
            return
        try:
            queue_refreshes(automatic, trigger=IndicatorRefreshTrigger.ADMIN)
        except QueueUnavailable as error:
            messages.error(request, str(error))
            return
        messages.success(
            request,
            _("The refresh of %(count)s indicator(s) is queued; its outcome appears on the indicator's page.")
            % {"count": len(automatic)},
        )


@admin.register(IndicatorRefresh)
class IndicatorRefreshAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The log of every reading; written by the refreshes only."""

    list_display = ["started_at", "indicator", "trigger", "attempt", "outcome", "value", "duration_ms", "message"]
    # By date as a range (today, the last 7 days, this month, this year) rather than date_hierarchy, whose
    # years and months are a DISTINCT over every reading of the log (issue 9).
    list_filter = ["started_at", "outcome", "trigger", "will_retry"]
    search_fields = ["indicator__name", "message"]
    list_select_related = ["indicator"]
    # Only the count of the rows shown: the count of the whole log beside it read every row again.
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: IndicatorRefresh | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: IndicatorRefresh | None = None) -> bool:
        # Coordinators remove an indicator with its log; nobody edits the log itself.
        return can_edit_reference(request.user)


class CorrectionAdminForm(ReasonForm):
    """A value's page corrects it: the reason is required and public, the history keeps the old value."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["change_reason"].required = True

    def clean(self) -> dict:
        cleaned = super().clean()
        value = cleaned.get("value")
        out_of_bounds = value is not None and self.instance.indicator.bounds_error(value)
        if out_of_bounds:
            self.add_error("value", out_of_bounds)
        return cleaned


@admin.register(IndicatorValue)
class IndicatorValueAdmin(ValueImportAdminMixin, WorkspaceAdmin):
    form = CorrectionAdminForm
    list_display = ["indicator", "date", "value", "origin", "recorded_by", "recorded_at"]
    # By year rather than date_hierarchy, and without the count of every value beside the count of those shown:
    # each read all the values of every OGP member (0.55 s and 0.1 s for a coordinator, issue 9).
    list_filter = ["origin", ("date", YearFilter), "indicator__commitment__plan"]
    show_full_result_count = False
    search_fields = ["indicator__name", "note"]
    list_select_related = ["indicator", "recorded_by"]
    fields = ["indicator", "date", "value", "origin", "note", "recorded_by", "recorded_at", "change_reason"]
    readonly_fields = ["indicator", "date", "origin", "note", "recorded_by", "recorded_at"]

    # New values come from the update page, the import and the API, whose services check them.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: IndicatorValue | None = None) -> bool:
        if obj is None:
            return self.has_view_permission(request)
        return self.has_view_permission(request, obj) and can_record_value(request.user, obj.indicator)

    def save_model(self, request: HttpRequest, obj: IndicatorValue, form: forms.Form, change: bool) -> None:
        indicator_services.correct_value(
            indicator_value=obj, value=form.cleaned_data["value"], by=request.user, reason=self._reason(form)
        )

    def save_related(self, request: HttpRequest, form: forms.Form, formsets: object, change: bool) -> None:
        form.save_m2m()  # correct_value has already stamped the commitment and recomputed its progress

    def after_change(self, request: HttpRequest, obj: IndicatorValue) -> None:
        services.refresh_progress(commitment=obj.indicator.commitment)
        services.mark_updated(commitment=obj.indicator.commitment, by=request.user)
