"""People and their memberships, managed by coordinators; editors see neither, so never change their own role.

Django's model permissions play no part (coordinators and editors hold none): every check is a predicate
of accounts/permissions.py. What reaches past the roles (superuser status, groups, Django permissions,
someone else's password, adding an account without an invitation) stays with superusers.
"""

import smtplib
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import services
from accounts.forms import InvitationForm
from accounts.models import Membership, User
from accounts.permissions import can_change_account, can_invite, can_manage_accounts, is_platform_admin
from opengov.admin_site import WorkspaceAdmin, save_formset_with_history

# Fields only superusers see on someone's account: they grant what no role check limits.
PLATFORM_FIELDS = {"password", "is_superuser", "groups", "user_permissions"}


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["administration"]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_manage_accounts(request.user)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_manage_accounts(request.user) if obj is None else can_change_account(request.user, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_add_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_add_permission(request, obj)


@admin.register(User)
class OpengovUserAdmin(UserAdmin):
    inlines = [MembershipInline]
    change_list_template = "accounts/user_change_list.html"
    list_display = ["username", "email", "first_name", "last_name", "is_staff", "is_active"]
    actions = ["resend_invitation"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_manage_accounts(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_manage_accounts(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Coordinators add people by invitation (invite_view), which never lets them choose the password.
        return is_platform_admin(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_manage_accounts(request.user) if obj is None else can_change_account(request.user, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Coordinators deactivate an account instead: its name stays on the history it signed.
        return is_platform_admin(request.user)

    def has_invite_permission(self, request: HttpRequest) -> bool:
        return can_invite(request.user)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or is_platform_admin(request.user):
            return fieldsets
        return [
            (name, {**options, "fields": [field for field in options["fields"] if field not in PLATFORM_FIELDS]})
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if is_platform_admin(request.user):
            return super().get_readonly_fields(request, obj)
        return ["last_login", "date_joined"]

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        # Someone else's password is theirs to choose: a coordinator sends the invitation again instead.
        if not is_platform_admin(request.user):
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    def save_formset(self, request: HttpRequest, form: forms.Form, formset: Any, change: bool) -> None:
        # Memberships keep a history that names who changed them.
        save_formset_with_history(formset, by=request.user, reason="")

    def get_urls(self) -> list[URLPattern]:
        invite = path("invite/", self.admin_site.admin_view(self.invite_view), name="accounts_user_invite")
        return [invite, *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        return super().changelist_view(request, {**(extra_context or {}), "can_invite": can_invite(request.user)})

    def invite_view(self, request: HttpRequest) -> HttpResponse:
        """Invite someone by e-mail to act for an administration, as editor or coordinator."""
        if not can_invite(request.user):
            raise PermissionDenied
        form = InvitationForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            try:
                user = services.invite_member(
                    **form.cleaned_data, invited_by=request.user, base_url=request.build_absolute_uri("/")
                )
            except ValidationError as error:
                form.add_error(None, error)
            except (smtplib.SMTPException, OSError):
                # Raised after the commit, by the e-mail: the account exists and can be invited again.
                messages.error(
                    request,
                    _(
                        "The account is created but the e-mail could not be sent: select it in the list and "
                        "use “Resend the invitation” once the mail server answers."
                    ),
                )
                return HttpResponseRedirect(reverse("admin:accounts_user_changelist"))
            else:
                messages.success(
                    request,
                    _("%(email)s is invited: an e-mail with a link to choose a password is on its way.")
                    % {"email": user.email},
                )
                return HttpResponseRedirect(reverse("admin:accounts_user_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Invite a person"),
            "subtitle": None,
            "form": form,
            "opts": self.model._meta,
        }
        return render(request, "accounts/invitation_form.html", context)

    @admin.action(description=gettext_lazy("Resend the invitation"), permissions=["invite"])
    def resend_invitation(self, request: HttpRequest, queryset: QuerySet) -> None:
        sent, skipped = [], []
        with transaction.atomic():
            for user in queryset:
                if user.has_usable_password() or not can_change_account(request.user, user):
                    skipped.append(user.get_username())
                    continue
                services.resend_invitation(user=user, invited_by=request.user, base_url=request.build_absolute_uri("/"))
                sent.append(user.get_username())
        if sent:
            messages.success(request, _("Invitation sent again to: %(users)s.") % {"users": ", ".join(sent)})
        if skipped:
            messages.warning(
                request,
                _("Not sent to %(users)s: an invitation is only for someone who has not chosen a password yet.")
                % {"users": ", ".join(skipped)},
            )


@admin.register(Membership)
class MembershipAdmin(WorkspaceAdmin):
    # Coordinators manage memberships (can_manage_accounts: the same people as can_edit_reference, which
    # the base class asks); editors never see them, so never change their own role.
    editors_see = False
    list_display = ["user", "administration", "role"]
    list_filter = ["role", "administration"]
    search_fields = ["user__username", "user__email", "administration__name", "administration__short_name"]
    list_select_related = ["user", "administration"]
    autocomplete_fields = ["user", "administration"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return can_manage_accounts(request.user)
        return can_change_account(request.user, obj.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_change_permission(request, obj)
