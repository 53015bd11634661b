"""The values' CSV import, its template and the export, as pages of the indicator values' admin.

The import is two requests. The upload shows a preview and carries the file's text to the confirmation
in a signed hidden field rather than in the session: nothing is left on the server when a preview is
abandoned, two previews in two tabs do not overwrite each other, and a session row is not loaded with
megabytes on every later request. The signature means the confirmed file is the previewed one; the
confirmation still checks every row again, and applies nothing if the outcome differs from the preview.
"""

from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from indicators.imports import (
    MAX_BYTES,
    ImportAction,
    ImportPlan,
    apply_import,
    decode_upload,
    parse_values_csv,
    plan_import,
    too_big_message,
    write_values_csv,
)
from indicators.models import Indicator, IndicatorValue
from indicators.permissions import can_import_values

# A preview is confirmed within the hour, or the file is uploaded again.
PREVIEW_MAX_AGE = 60 * 60
_SALT = "indicators.admin_import.preview"
# Room left in a request body for the CSRF token and the field names beside the carried file.
_FORM_MARGIN = 16 * 1024


class UploadForm(forms.Form):
    # Empty files reach the import, which says so in its own words.
    file = forms.FileField(label=gettext_lazy("CSV file"), allow_empty_file=True)


class ConfirmForm(forms.Form):
    preview = forms.CharField(widget=forms.HiddenInput)


def _summary(plan: ImportPlan) -> str:
    return _("%(new)s new value(s), %(corrections)s correction(s), %(unchanged)s unchanged value(s).") % {
        "new": plan.count(ImportAction.NEW),
        "corrections": plan.count(ImportAction.CORRECTION),
        "unchanged": plan.count(ImportAction.UNCHANGED),
    }


def _csv_response(filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class ValueImportAdminMixin:
    """For IndicatorValueAdmin: import/, export.csv and modele.csv, and their buttons on the list."""

    admin_site: admin.AdminSite
    model: type[IndicatorValue]
    import_template = "admin/indicators/indicatorvalue/import.html"

    def get_urls(self) -> list[URLPattern]:
        # Before the admin's own, whose <path:object_id>/ would otherwise take them.
        own = [
            path("import/", self._guarded(self.import_view), name="indicators_indicatorvalue_import"),
            path("export.csv", self._guarded(self.export_view), name="indicators_indicatorvalue_export"),
            path("modele.csv", self._guarded(self.template_view), name="indicators_indicatorvalue_template"),
        ]
        return own + super().get_urls()  # type: ignore[misc]

    def _guarded(self, view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        """The admin's own checks (sign-in, second factor), and a 403 for those signed in who may update nothing."""
        admin_view = self.admin_site.admin_view(view)

        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.user.is_authenticated and not can_import_values(request.user):
                raise PermissionDenied
            return admin_view(request, *args, **kwargs)

        return guarded

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        extra_context = {"can_import_values": can_import_values(request.user), **(extra_context or {})}
        return super().changelist_view(request, extra_context)  # type: ignore[misc]

    def template_view(self, request: HttpRequest) -> HttpResponse:
        """One line per indicator the user may update, to be filled with dates and values."""
        indicators = (
            Indicator.objects.editable_by(request.user)
            .select_related("commitment__plan")
            .order_by("commitment__plan__start_year", "commitment__plan_id", "commitment__number", "name", "pk")
        )
        response = _csv_response("modele-valeurs-indicateurs.csv")
        write_values_csv(response, ((indicator, None) for indicator in indicators))
        return response

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """The user's values, narrowed by the filters and the search of the list the button was on."""
        try:
            listed = self.get_changelist_instance(request).get_queryset(request)  # type: ignore[attr-defined]
        except IncorrectLookupParameters:
            messages.error(request, _("These filters cannot be applied; the export was not made."))
            return HttpResponseRedirect(reverse("admin:indicators_indicatorvalue_changelist"))
        values: QuerySet = (
            listed.editable_by(request.user)
            .select_related("indicator__commitment__plan")
            .order_by(
                "indicator__commitment__plan__start_year",
                "indicator__commitment__plan_id",
                "indicator__commitment__number",
                "indicator__name",
                "indicator_id",
                "date",
            )
        )
        response = _csv_response(f"valeurs-indicateurs-{timezone.localdate().isoformat()}.csv")
        write_values_csv(response, ((value.indicator, value) for value in values))
        return response

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload, then preview; a confirmed preview is checked again and applied, all rows or none."""
        if request.method == "POST" and "preview" in request.POST:
            return self._confirm(request)
        upload = UploadForm(request.POST or None, request.FILES or None)
        if request.method != "POST" or not upload.is_valid():
            return self._render(request, upload=upload)
        file = upload.cleaned_data["file"]
        try:
            if file.size > MAX_BYTES:
                raise ValidationError(too_big_message())  # refused before it is read into memory
            text = decode_upload(file.read())
            plan = plan_import(rows=parse_values_csv(text), user=request.user)
        except ValidationError as error:
            return self._render(request, file_errors=error.messages)
        return self._preview(request, text=text, plan=plan)

    def _confirm(self, request: HttpRequest) -> HttpResponse:
        confirm = ConfirmForm(request.POST)
        try:
            if not confirm.is_valid():
                raise signing.BadSignature
            carried = signing.loads(
                confirm.cleaned_data["preview"], salt=f"{_SALT}:{request.user.pk}", max_age=PREVIEW_MAX_AGE
            )
        except signing.SignatureExpired:
            return self._render(request, file_errors=[_("The preview has expired; upload the file again.")])
        except signing.BadSignature:
            return self._render(request, file_errors=[_("The preview could not be read; upload the file again.")])
        try:
            plan = plan_import(rows=parse_values_csv(carried["text"]), user=request.user)
        except ValidationError as error:
            return self._render(request, file_errors=error.messages)
        if not plan.is_valid or plan.fingerprint != carried["fingerprint"]:
            warning = _(
                "The recorded values or your rights have changed since the preview; nothing was imported. "
                "Check the rows again before you confirm."
            )
            return self._preview(request, text=carried["text"], plan=plan, warning=warning)
        try:
            counts = apply_import(plan=plan, by=request.user)
        except ValidationError as error:
            # Shown against the values as they are now, not as the rolled-back attempt left its objects.
            plan = plan_import(rows=parse_values_csv(carried["text"]), user=request.user)
            return self._preview(request, text=carried["text"], plan=plan, warning=" ".join(error.messages))
        messages.success(
            request,
            _("The file is imported: %(new)s new value(s), %(corrections)s correction(s), %(unchanged)s unchanged.")
            % {"new": counts.created, "corrections": counts.corrected, "unchanged": counts.unchanged},
        )
        return HttpResponseRedirect(reverse("admin:indicators_indicatorvalue_changelist"))

    def _preview(self, request: HttpRequest, *, text: str, plan: ImportPlan, warning: str = "") -> HttpResponse:
        carried = signing.dumps(
            {"text": text, "fingerprint": plan.fingerprint}, salt=f"{_SALT}:{request.user.pk}", compress=True
        )
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and len(carried) > limit - _FORM_MARGIN:
            # The confirmation would be refused by Django before it reached this view.
            return self._render(request, file_errors=[too_big_message()])
        confirm = ConfirmForm(initial={"preview": carried}) if plan.is_valid and plan.changes else None
        return self._render(request, plan=plan, confirm=confirm, warning=warning, summary=_summary(plan))

    def _render(self, request: HttpRequest, *, upload: UploadForm | None = None, **context: Any) -> HttpResponse:
        return TemplateResponse(
            request,
            self.import_template,
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Import indicator values"),
                "upload": upload or UploadForm(),
                **context,
            },
        )
