"""A contribution's page in the workspace: coordinators moderate it, the carrying administrations answer it.

It takes the place of the admin's generic change form, which would let anyone with the change
permission rewrite a citizen's words. Each form is one service call, posted to the same page.
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from commitments.models import Administration
from commitments.services import REASON_MAX_LENGTH
from commitments.workspace import refusal_to_form
from forums import services
from forums.models import BODY_MAX_LENGTH, Answer, Contribution, validate_plain_text
from forums.permissions import answering_administrations, can_moderate


class ModerationForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[("publish", gettext_lazy("Publish")), ("reject", gettext_lazy("Reject"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason for rejecting (sent to the author, not published)"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
    )


class AnswerForm(forms.Form):
    administration = forms.ModelChoiceField(
        label=gettext_lazy("On behalf of"), queryset=Administration.objects.none(), empty_label=None
    )
    body = forms.CharField(
        label=gettext_lazy("Answer (public)"),
        max_length=BODY_MAX_LENGTH,
        validators=[validate_plain_text],
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
    )
    reason = forms.CharField(
        label=gettext_lazy("Why the answer changes (public, required to change it)"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.TextInput(attrs={"size": 80}),
    )

    def __init__(self, *args: Any, administrations: list[Administration], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["administration"].queryset = Administration.objects.filter(
            pk__in=[administration.pk for administration in administrations]
        )


def contribution_view(request: HttpRequest, contribution: Contribution, context: dict[str, Any]) -> HttpResponse:
    """The page; `contribution` was looked up within what the person may see, `context` is the admin site's."""
    user = request.user
    posted = request.POST if request.method == "POST" else None
    action = posted.get("action", "") if posted else ""
    moderating = can_moderate(user)
    administrations = answering_administrations(user, contribution)
    answer = Answer.objects.filter(contribution=contribution).select_related("administration").first()

    moderation = ModerationForm(posted if action == "moderate" else None, prefix="moderate") if moderating else None
    answer_form = None
    if administrations:
        initial = {"administration": answer.administration_id if answer else administrations[0].pk}
        if answer:
            initial["body"] = answer.body
        answer_form = AnswerForm(
            posted if action == "answer" else None, prefix="answer", administrations=administrations, initial=initial
        )

    if posted is not None:
        if action == "moderate" and moderation is not None:
            form, call = moderation, _moderate
        elif action == "answer" and answer_form is not None:
            form, call = answer_form, _answer
        else:
            raise PermissionDenied
        if form.is_valid():
            try:
                done = call(contribution, user, form.cleaned_data)
            except ValidationError as error:
                refusal_to_form(form, error)
            else:
                messages.success(request, done)
                return HttpResponseRedirect(request.path)

    context = {
        **context,
        "title": str(contribution),
        "contribution": contribution,
        "answer": answer,
        "moderation_form": moderation,
        "answer_form": answer_form,
        "opts": Contribution._meta,
        "original": contribution,
        "has_email": bool(contribution.email),
    }
    return TemplateResponse(request, "admin/forums/contribution/workspace.html", context)


def _answer(contribution: Contribution, user: Any, data: dict[str, Any]) -> str:
    services.answer_contribution(contribution=contribution, by=user, **data)
    return _("The answer is published.")


def _moderate(contribution: Contribution, user: Any, data: dict[str, Any]) -> str:
    if data["decision"] == "publish":
        services.publish_contribution(contribution=contribution, by=user)
        return _("The contribution is published; the administrations that must answer are told.")
    services.reject_contribution(contribution=contribution, by=user, reason=data["reason"])
    return _("The contribution is rejected; its author, if known, is told why.")
