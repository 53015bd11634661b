"""The everyday update page of a commitment, in the admin: each form is one service call.

Editors change nothing else; coordinators have the full change forms as well. Every form posts to the
same page with its own prefix, so that an error is shown beside the field of the form that caused it
while the others keep their place.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from commitments import services
from commitments.models import Commitment, CommitmentCompletion, Milestone
from commitments.services import REASON_MAX_LENGTH
from indicators import services as indicator_services
from indicators.models import Indicator, IndicatorValue, IndicatorValueOrigin

# How many of an indicator's latest values the page offers to correct; older ones are in the value list.
CORRECTABLE_VALUES = 3


def _reason_field(*, required: bool, label: str = gettext_lazy("Reason (public)")) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=REASON_MAX_LENGTH,
        widget=forms.TextInput(attrs={"size": 60}),
    )


def _date_field(label: str) -> forms.DateField:
    # A date input reads and writes ISO dates, whatever the language of the page.
    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    return forms.DateField(label=label, initial=timezone.localdate, widget=widget)


class CompletionForm(forms.Form):
    completion = forms.ChoiceField(label=gettext_lazy("Completion"), choices=CommitmentCompletion.choices)
    progress_note = forms.CharField(
        label=gettext_lazy("Progress note (public)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
    )
    reason = _reason_field(required=False)


class MilestoneDoneForm(forms.Form):
    completed_on = _date_field(gettext_lazy("Done on"))
    evidence_url = forms.URLField(
        label=gettext_lazy("Evidence link"), required=False, max_length=500, assume_scheme="https"
    )
    reason = _reason_field(required=False)


class NewValueForm(forms.Form):
    date = _date_field(gettext_lazy("Date"))
    value = forms.DecimalField(label=gettext_lazy("Value"), max_digits=20, decimal_places=4, localize=True)
    note = forms.CharField(label=gettext_lazy("Note (public)"), required=False, max_length=REASON_MAX_LENGTH)


class CorrectionForm(forms.Form):
    value = forms.DecimalField(label=gettext_lazy("Corrected value"), max_digits=20, decimal_places=4, localize=True)
    reason = _reason_field(required=True, label=gettext_lazy("Why (public, required)"))


@dataclass
class IndicatorPanel:
    indicator: Indicator
    new_value: forms.Form
    corrections: list[tuple[IndicatorValue, forms.Form]] = field(default_factory=list)


def refusal_to_form(form: forms.Form, error: ValidationError) -> None:
    """A service's refusal, shown beside the field it names (or above the form)."""
    if hasattr(error, "error_dict"):
        for name, field_messages in error.message_dict.items():
            form.add_error(name if name in form.fields else None, field_messages)
    else:
        form.add_error(None, error.messages)


def _apply(
    request: HttpRequest, form: forms.Form, call: Callable[[dict[str, Any]], Any], done: str
) -> HttpResponse | None:
    """Validate a posted form and call its service; on success, say so and show the page afresh."""
    if not form.is_valid():
        return None
    try:
        call(form.cleaned_data)
    except ValidationError as error:
        refusal_to_form(form, error)
        return None
    messages.success(request, done)
    return HttpResponseRedirect(f"{request.path}#{form.prefix}")


def update_view(request: HttpRequest, pk: int, context: dict[str, Any]) -> HttpResponse:
    """The update page; `context` is the admin site's own, for its header and navigation."""
    commitment = get_object_or_404(
        Commitment.objects.editable_by(request.user)
        .select_related("plan", "axis", "updated_by")
        .prefetch_related(
            Prefetch("milestones", queryset=Milestone.objects.order_by("position", "due_date", "pk")),
            Prefetch(
                "indicators",
                queryset=Indicator.objects.order_by("pk").prefetch_related(
                    # The latest few of each indicator, in one query whatever the number of indicators.
                    Prefetch(
                        "values",
                        queryset=IndicatorValue.objects.order_by("-date")[:CORRECTABLE_VALUES],
                        to_attr="latest_values",
                    )
                ),
            ),
        ),
        pk=pk,
    )
    user = request.user
    posted = request.POST if request.method == "POST" else None
    action = posted.get("action", "") if posted else ""

    def bound(form_class: type[forms.Form], prefix: str, **kwargs: Any) -> forms.Form:
        return form_class(posted if action == prefix else None, prefix=prefix, **kwargs)

    completion = bound(
        CompletionForm,
        "completion",
        initial={"completion": commitment.completion, "progress_note": commitment.progress_note},
    )
    milestones = list(commitment.milestones.all())
    milestone_forms = [(m, bound(MilestoneDoneForm, f"milestone-{m.pk}")) for m in milestones if not m.is_done]
    panels = []
    for indicator in commitment.indicators.all():
        panel = IndicatorPanel(indicator=indicator, new_value=bound(NewValueForm, f"indicator-{indicator.pk}"))
        for value in indicator.latest_values:
            panel.corrections.append(
                (value, bound(CorrectionForm, f"value-{value.pk}", initial={"value": value.value}))
            )
        panels.append(panel)

    if posted is not None:
        response = _dispatch(request, commitment, action, completion, milestone_forms, panels, user)
        if response is not None:
            return response

    context = {
        **context,
        "title": _("Update “%(title)s”") % {"title": commitment.title},
        "commitment": commitment,
        "completion_form": completion,
        "milestone_rows": [(m, dict(milestone_forms).get(m)) for m in milestones],
        "panels": panels,
        "opts": Commitment._meta,
        "original": commitment,
    }
    return TemplateResponse(request, "admin/commitments/commitment/update.html", context)


def _dispatch(
    request: HttpRequest,
    commitment: Commitment,
    action: str,
    completion: forms.Form,
    milestone_forms: list[tuple[Milestone, forms.Form]],
    panels: list[IndicatorPanel],
    user: Any,
) -> HttpResponse | None:
    """Run the one form that was posted. Its object is looked up among this commitment's own: an id
    from elsewhere (another administration's milestone, say) matches nothing and answers 404."""
    if action == "completion":
        return _apply(
            request,
            completion,
            lambda data: services.set_completion(commitment=commitment, by=user, **data),
            _("The completion is saved."),
        )
    for milestone, form in milestone_forms:
        if action == form.prefix:
            return _apply(
                request,
                form,
                lambda data, milestone=milestone: services.mark_milestone_done(milestone=milestone, by=user, **data),
                _("The milestone “%(title)s” is marked done.") % {"title": milestone.title},
            )
    for panel in panels:
        if action == panel.new_value.prefix:
            return _apply(
                request,
                panel.new_value,
                lambda data, indicator=panel.indicator: indicator_services.record_value(
                    indicator=indicator, origin=IndicatorValueOrigin.MANUAL, by=user, **data
                ),
                _("The value of “%(name)s” is recorded.") % {"name": panel.indicator.name},
            )
        for value, form in panel.corrections:
            if action == form.prefix:
                return _apply(
                    request,
                    form,
                    lambda data, value=value: indicator_services.correct_value(indicator_value=value, by=user, **data),
                    _("The value of “%(name)s” is corrected.") % {"name": panel.indicator.name},
                )
    raise Http404(_("No such form on this page."))
