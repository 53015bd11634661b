from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import MembershipRole
from commitments.models import Administration


class SecondFactorForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        help_text=_("The 6 digits your authenticator app shows now."),
        error_messages={"required": _("Enter the 6-digit code your authenticator app shows.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True, "size": 8}
        ),
    )

    def clean_code(self) -> str:
        # Apps show the code as "123 456"; people copy it as they see it.
        code = "".join(self.cleaned_data["code"].split())
        if not (code.isascii() and code.isdigit() and len(code) == 6):
            raise forms.ValidationError(_("A code is 6 digits: enter the one your authenticator app shows."))
        return code


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"), help_text=_("It will be the person's username."))
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    administration = forms.ModelChoiceField(label=_("Administration"), queryset=Administration.objects.all())
    role = forms.ChoiceField(label=_("Role"), choices=MembershipRole.choices, initial=MembershipRole.EDITOR)
