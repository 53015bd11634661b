"""The administrations' workspace is Django's admin site, opened only to people with a role."""

import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.admin.filters import get_last_value_from_parameters
from django.contrib.admin.utils import NotRelationField, get_fields_from_path, get_model_from_relation
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Case, Count, Exists, Max, Min, OuterRef, Q, QuerySet, When
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from accounts import views as accounts_views
from accounts.permissions import can_use_workspace, roles_of
from commitments.models import words_match
from commitments.permissions import can_edit_reference
from commitments.services import REASON_MAX_LENGTH, delete_with_history, save_with_history


class WorkspaceAdminSite(admin.AdminSite):
    site_header = _("opengov — administrations' workspace")
    site_title = _("opengov workspace")
    index_title = _("Your commitments")

    def has_permission(self, request: HttpRequest) -> bool:
        """Staff with a role (or superusers) and, when a second factor is required, verified by it."""
        user = request.user
        if not can_use_workspace(user):
            return False
        return not settings.OTP_REQUIRED or bool(getattr(user, "is_verified", lambda: False)())

    @method_decorator(never_cache)
    @login_not_required
    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """Django's login page, then the second factor or its set-up (accounts/views.py)."""
        return accounts_views.login(request, site=self, extra_context=extra_context)

    def get_urls(self) -> list:
        # First, before the admin's catch-all pattern: the second factor's pages and the invitation link.
        return accounts_views.workspace_urls(self) + super().get_urls()


class ReasonForm(forms.ModelForm):
    """An admin form that asks why: the reason is public, beside the change in the history."""

    change_reason = forms.CharField(
        label=_("Reason for the change"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Public: shown beside the change in the history."),
    )


# A relation filter lists at most this many of the objects its list holds, then a box searches the others: a
# coordinator's lists hold every plan (600) and administration (1,500) of the OGP members, a sidebar of 2,100
# links that made the commitments' page 374 kB (issue 9).
FILTER_CHOICES_SHOWN = 20
# Words longer than any name are cut, not refused: they only narrow the choices offered.
FILTER_SEARCH_MAX_LENGTH = 100


class HeldRelationFilter(admin.RelatedOnlyFieldListFilter):
    """The objects of a relation that the list holds, as RelatedOnlyFieldListFilter offers them, found by EXISTS;
    past FILTER_CHOICES_SHOWN of them, the first ones (the chosen one always) and a box that searches them by the
    words of their own admin's search fields.

    Django's IN (SELECT DISTINCT ...) reads every row of the list: 0.57 s for the plans of the coordinators' list
    of the 4 million values of every OGP member (issue 9). An EXISTS stops at each object's first row: 9 ms."""

    template = "admin/held_relation_filter.html"
    shown = FILTER_CHOICES_SHOWN
    max_length = FILTER_SEARCH_MAX_LENGTH

    def __init__(
        self, field: Any, request: HttpRequest, params: dict, model: Any, model_admin: Any, field_path: str
    ) -> None:
        # Set before the parent's __init__, which takes the parameters named by expected_parameters() and reads
        # the choices.
        self.search_kwarg = f"{field_path}__search"
        words = get_last_value_from_parameters(params, self.search_kwarg) or ""
        self.words = words.strip()[: self.max_length]
        self.search_fields = _search_fields(field, request, model_admin)
        self.has_more = False
        self.hidden_fields: list[tuple[str, str]] = []
        super().__init__(field, request, params, model, model_admin, field_path)
        # The words narrow the choices offered, never the list itself.
        self.used_parameters.pop(self.search_kwarg, None)

    def expected_parameters(self) -> list[str]:
        return [*super().expected_parameters(), self.search_kwarg]

    @property
    def searchable(self) -> bool:
        """Whether the sidebar shows the search box: the choices did not all fit, or words narrowed them."""
        return bool(self.search_fields) and (self.has_more or bool(self.words))

    def has_output(self) -> bool:
        # Words that match nothing still show the box, to change them.
        return self.searchable or super().has_output()

    def field_choices(self, field: Any, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        rows = model_admin.get_queryset(request).filter(**{self.field_path: OuterRef("pk")})
        ordering = self.field_admin_ordering(field, request, model_admin)
        if not self.search_fields:  # nothing to search them by: every one, as Django lists them
            return field.get_choices(include_blank=False, limit_choices_to=Q(Exists(rows)), ordering=ordering)
        held = get_model_from_relation(field)._default_manager.filter(Exists(rows))
        # The chosen ones by the field the relation points to, as the list's own lookup reads them.
        chosen = Q(**{f"{field.target_field.name}__in": self._chosen_keys()})
        if self.words:
            held = held.filter(words_match(self.search_fields, self.words) | chosen)
        # Their own order, then their key: which ones come first must not change between two pages.
        ordering = [*(ordering or held.model._meta.ordering), "pk"]
        if self.lookup_val:  # first, so that the sidebar always says which one the list shows
            held = held.alias(chosen_first=Case(When(chosen, then=0), default=1))
            ordering = ["chosen_first", *ordering]
        held = held.order_by(*ordering)
        objects = list(held[: self.shown + 1])
        self.has_more = len(objects) > self.shown
        key = field.target_field.attname
        return [(getattr(obj, key), str(obj)) for obj in objects[: self.shown]]

    def _chosen_keys(self) -> list:
        keys = []
        for value in self.lookup_val or []:
            try:
                keys.append(self.field.target_field.to_python(value))
            except ValidationError:
                continue  # the list itself refuses it, with the admin's own message
        return keys

    def choices(self, changelist: Any) -> Any:
        if self.searchable:
            # The box's form sends the list's other parameters again (its ordering, search and other filters).
            self.hidden_fields = [
                (name, value)
                for name, values in changelist.filter_params.items()
                if name != self.search_kwarg
                for value in values
            ]
        yield from super().choices(changelist)


def _search_fields(field: Any, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[str]:
    """The related model's admin search fields, as lookups of words (without the admin's ^, = and @ marks)."""
    try:
        related_admin = model_admin.admin_site.get_model_admin(get_model_from_relation(field))
    except NotRegistered:
        return []
    return [name.lstrip("^=@") for name in related_admin.get_search_fields(request)]


def _relation_filter(model: type[models.Model], entry: Any) -> Any:
    """A filter on a relation offers only the objects the list holds, so an editor's filters stay in scope."""
    if not isinstance(entry, str):
        return entry
    try:
        field = get_fields_from_path(model, entry)[-1]
    except (NotRelationField, FieldDoesNotExist):
        return entry
    return (entry, HeldRelationFilter) if field.is_relation else entry


def _year(day: datetime.date) -> int:
    # A moment's year where the workspace is, as the __year lookup reads it.
    if isinstance(day, datetime.datetime) and timezone.is_aware(day):
        return timezone.localtime(day).year
    return day.year


class YearFilter(admin.FieldListFilter):
    """The years from the list's first date to its last, the latest first, to show one of them: `("date",
    YearFilter)` in list_filter, instead of date_hierarchy. The hierarchy finds the years that hold a row by a
    DISTINCT over every row of the list: 0.55 s for the coordinators' list of the 4 million values of every OGP
    member (issue 9). Here the bounds are a MIN and a MAX, which an index on the field answers at once; a year
    between them without a row shows an empty list."""

    def __init__(
        self, field: Any, request: HttpRequest, params: dict, model: Any, model_admin: Any, field_path: str
    ) -> None:
        self.lookup_kwarg = f"{field_path}__year"
        self.lookup_val = get_last_value_from_parameters(params, self.lookup_kwarg)
        super().__init__(field, request, params, model, model_admin, field_path)
        bounds = model_admin.get_queryset(request).aggregate(first=Min(field_path), last=Max(field_path))
        first, last = bounds["first"], bounds["last"]
        self.years = list(range(_year(last), _year(first) - 1, -1)) if first is not None else []

    def has_output(self) -> bool:
        return bool(self.years)

    def expected_parameters(self) -> list[str]:
        return [self.lookup_kwarg]

    def get_facet_counts(self, pk_attname: str, filtered_qs: QuerySet) -> dict:
        return {
            f"{i}__c": Count(pk_attname, filter=Q(**{self.lookup_kwarg: year})) for i, year in enumerate(self.years)
        }

    def choices(self, changelist: Any) -> Any:
        facet_counts = self.get_facet_queryset(changelist) if changelist.add_facets else None
        yield {
            "selected": self.lookup_val is None,
            "query_string": changelist.get_query_string(remove=[self.lookup_kwarg]),
            "display": _("All years"),
        }
        for i, year in enumerate(self.years):
            yield {
                "selected": self.lookup_val == str(year),
                "query_string": changelist.get_query_string({self.lookup_kwarg: year}),
                "display": f"{year} ({facet_counts[f'{i}__c']})" if facet_counts else str(year),
            }


class ScopedAdminMixin:
    """Coordinators see and change everything; editors see only what the commitments their administrations
    carry hold (`editable_by`), and change nothing through the generic forms."""

    # Whether editors see this model's objects of the commitments they carry; False hides the model.
    editors_see = True

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        roles = roles_of(request.user)
        if roles.sees_everything:
            return queryset
        if self.editors_see and roles.is_editor:
            return queryset.editable_by(request.user)
        return queryset.none()

    def get_list_filter(self, request: HttpRequest) -> list:
        return [_relation_filter(self.model, entry) for entry in super().get_list_filter(request)]

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        """Another administration's object, by a guessed URL, is not found: 404, never a redirect or a hint."""
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(_("No such object, or not one of yours."))
        return obj

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        roles = roles_of(request.user)
        if roles.sees_everything:
            return True
        if not (self.editors_see and roles.is_editor):
            return False
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return can_edit_reference(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_edit_reference(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_edit_reference(request.user)


def save_formset_with_history(formset: Any, *, by: Any, reason: str) -> None:
    """Save an admin page's inline rows through the services, each with who changed it and why."""
    instances = formset.save(commit=False)
    for obj in formset.deleted_objects:
        delete_with_history(obj, by=by, reason=reason)
    for obj in instances:
        save_with_history(obj, by=by, reason=reason)
    formset.save_m2m()


class ChoiceLabels(HistoricalRecordContextHelper):
    """A history's old → new shows a choice as people read it ("Substantiel"), not as it is stored."""

    def prepare_delta_change_value(self, change: Any, value: Any) -> Any:
        model_field = self.model._meta.get_field(change.field)
        if model_field.choices and value not in (None, ""):
            return dict(model_field.flatchoices).get(value, value)
        return super().prepare_delta_change_value(change, value)


class WorkspaceAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    """A domain model's admin, whose changes go through the services with a public reason. Editors make
    their everyday updates on the commitment's update page (commitments/workspace.py) instead."""

    form = ReasonForm
    # Each history row says who, for which administration, why, and every field's old → new.
    object_history_list_template = "admin/workspace_history_list.html"

    def get_historical_record_context_helper(self, request: HttpRequest, record: Any) -> HistoricalRecordContextHelper:
        return ChoiceLabels(self.model, record)

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: dict | None = None
    ) -> HttpResponse:
        # django-simple-history saves an old version posted here, whatever the change permission says.
        if request.method != "GET":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def _reason(self, form: forms.Form) -> str:
        return getattr(form, "cleaned_data", {}).get("change_reason", "")

    def save_model(self, request: HttpRequest, obj: Any, form: forms.Form, change: bool) -> None:
        save_with_history(obj, by=request.user, reason=self._reason(form))

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        delete_with_history(obj, by=request.user, reason="")
        self.after_change(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        # The bulk action asks for the permission once, without the objects: each one is asked here.
        with transaction.atomic():
            for obj in queryset:
                if not self.has_delete_permission(request, obj):
                    raise PermissionDenied
                self.delete_model(request, obj)

    def save_formset(self, request: HttpRequest, form: forms.Form, formset: Any, change: bool) -> None:
        save_formset_with_history(formset, by=request.user, reason=self._reason(form))

    def save_related(self, request: HttpRequest, form: forms.Form, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        self.after_change(request, form.instance)

    def after_change(self, request: HttpRequest, obj: Any) -> None:
        """What a change implies beyond the object itself (a commitment's progress); nothing by default."""


class WorkspaceInline(admin.TabularInline):
    """Rows shown inside a parent's page: editors read them, coordinators change them with the parent."""

    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_edit_reference(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_edit_reference(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_edit_reference(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_use_workspace(request.user)
