from django import forms
from django.utils.translation import gettext_lazy as _

from forums.models import (
    BODY_MAX_LENGTH,
    DISPLAY_NAME_MAX_LENGTH,
    ContributionKind,
    validate_few_links,
    validate_plain_text,
)


class ContributionForm(forms.Form):
    """A citizen's contribution. The last field is a trap for robots: people never see it."""

    kind = forms.ChoiceField(label=_("What do you send?"), widget=forms.RadioSelect)
    body = forms.CharField(
        label=_("Your text"),
        max_length=BODY_MAX_LENGTH,
        validators=[validate_plain_text, validate_few_links],
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Plain text, %(limit)s characters at most. It is published after moderation.")
        % {"limit": BODY_MAX_LENGTH},
    )
    display_name = forms.CharField(
        label=_("Public name (optional)"),
        required=False,
        max_length=DISPLAY_NAME_MAX_LENGTH,
        validators=[validate_plain_text],
        help_text=_("Shown beside your contribution. Leave it empty to stay anonymous."),
    )
    email = forms.EmailField(
        label=_("E-mail address (optional)"),
        required=False,
        help_text=_(
            "Never shown. Used only to tell you whether your contribution is published and when it is answered, "
            "then erased."
        ),
    )
    # The honeypot: hidden from people (and from screen readers), filled in by robots that fill every field.
    website = forms.CharField(label=_("Leave this field empty"), required=False)

    def __init__(self, *args: object, kinds: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(kind, label) for kind, label in ContributionKind.choices if kind in kinds]
        if len(kinds) == 1:
            self.fields["kind"].initial = kinds[0]

    def is_trap_filled(self) -> bool:
        return bool(self.data.get("website", "").strip())
