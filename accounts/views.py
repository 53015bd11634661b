"""Signing in to the workspace: the password, then the second factor or its set-up; invitations; lockouts.

A person with an authenticator is not signed in until the code is right: between the two steps the
session only remembers who passed the password, for a few minutes. A person without one, where a
second factor is required, is signed in but the admin site refuses them until they set one up.
"""

import math
import time
from base64 import b32encode
from typing import Any
from urllib.parse import urlencode

import segno
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import BACKEND_SESSION_KEY, REDIRECT_FIELD_NAME
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN, LoginView, PasswordResetConfirmView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.forms import SecondFactorForm
from accounts.models import User
from accounts.permissions import can_use_workspace
from accounts.security import client_address

PASSWORD_BACKEND = "django.contrib.auth.backends.ModelBackend"
# Between the password and the code: who passed the password, with which backend, and when.
PENDING_USER = "accounts_pending_user"
PENDING_BACKEND = "accounts_pending_backend"
PENDING_SINCE = "accounts_pending_since"
PENDING_SECONDS = 5 * 60


def workspace_urls(site: admin.AdminSite) -> list[URLPattern]:
    """The pages the admin site adds for signing in, under its own prefix (/admin/)."""
    return [
        path("securite/verification/", second_factor, {"site": site}, name="second_factor"),
        path("securite/double-authentification/", enrol_second_factor, {"site": site}, name="second_factor_enrol"),
        path(
            "invitation/<uidb64>/<token>/",
            InvitationAcceptView.as_view(site=site),
            name="invitation_accept",
        ),
    ]


def _next_url(request: HttpRequest) -> str:
    """Where to go once signed in: the page asked for, if it is on this site, else the admin's index."""
    url = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME) or ""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse("admin:index")


def _redirect(name: str, next_url: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{reverse(name)}?{urlencode({REDIRECT_FIELD_NAME: next_url})}")


def _begin_second_step(request: HttpRequest, user: User, backend: str) -> None:
    # A new session key, so that a session planted before the password cannot ride on it.
    request.session.cycle_key()
    request.session[PENDING_USER] = user.pk
    request.session[PENDING_BACKEND] = backend
    request.session[PENDING_SINCE] = int(time.time())


def _end_second_step(request: HttpRequest) -> None:
    for key in (PENDING_USER, PENDING_BACKEND, PENDING_SINCE):
        request.session.pop(key, None)


def _pending_user(request: HttpRequest) -> User | None:
    since = request.session.get(PENDING_SINCE, 0)
    if time.time() - since > PENDING_SECONDS:
        return None
    return User.objects.filter(pk=request.session.get(PENDING_USER), is_active=True, is_staff=True).first()


def continue_after_password(request: HttpRequest, user: User, *, backend: str, next_url: str) -> HttpResponse:
    """The password is right: ask for the code, or sign in and, where required, set up a second factor."""
    if user_has_device(user, confirmed=True):
        _begin_second_step(request, user, backend)
        return _redirect("admin:second_factor", next_url)
    auth_login(request, user, backend=backend)
    if settings.OTP_REQUIRED:
        return _redirect("admin:second_factor_enrol", next_url)
    return HttpResponseRedirect(next_url)


class WorkspaceLoginView(LoginView):
    authentication_form = AdminAuthenticationForm
    template_name = "admin/login.html"

    def get_default_redirect_url(self) -> str:
        return reverse("admin:index")

    def form_valid(self, form: AdminAuthenticationForm) -> HttpResponse:
        user = form.get_user()
        return continue_after_password(
            self.request, user, backend=getattr(user, "backend", PASSWORD_BACKEND), next_url=self.get_success_url()
        )


@never_cache
@login_not_required
def login(request: HttpRequest, *, site: admin.AdminSite, extra_context: dict | None = None) -> HttpResponse:
    """The admin site's login page (Django's, as AdminSite.login builds it), leading on to the second factor."""
    user = request.user
    if request.method == "GET" and site.has_permission(request):
        return HttpResponseRedirect(reverse("admin:index", current_app=site.name))
    if request.method == "GET" and user.is_authenticated and can_use_workspace(user):
        # Signed in by the password alone (a session older than the rule, or an unfinished set-up).
        if user_has_device(user, confirmed=True):
            _begin_second_step(request, user, request.session.get(BACKEND_SESSION_KEY, PASSWORD_BACKEND))
            return _redirect("admin:second_factor", _next_url(request))
        return _redirect("admin:second_factor_enrol", _next_url(request))
    context = {
        **site.each_context(request),
        "title": _("Log in"),
        "subtitle": None,
        "app_path": request.get_full_path(),
        "username": user.get_username(),
    }
    if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
        context[REDIRECT_FIELD_NAME] = reverse("admin:index", current_app=site.name)
    context.update(extra_context or {})
    request.current_app = site.name
    return WorkspaceLoginView.as_view(extra_context=context)(request)


def _wait_message(seconds: int) -> str:
    return ngettext(
        "Too many wrong codes: wait %(seconds)s second before trying again.",
        "Too many wrong codes: wait %(seconds)s seconds before trying again.",
        seconds,
    ) % {"seconds": seconds}


WRONG_CODE = gettext_lazy("This code is not the right one: enter the 6-digit code your authenticator app shows now.")


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@login_not_required
def second_factor(request: HttpRequest, *, site: admin.AdminSite) -> HttpResponse:
    """The second step of signing in: the code of the person's authenticator."""
    next_url = _next_url(request)
    if request.method == "POST" and "cancel" in request.POST:
        auth_logout(request)  # flushes the session, the half-finished sign-in with it
        return HttpResponseRedirect(reverse("admin:login"))
    user = _pending_user(request)
    if user is None:
        return _redirect("admin:login", next_url)
    form = SecondFactorForm(request.POST if request.method == "POST" else None)
    credentials = {"username": user.get_username(), "second_factor": True}
    if form.is_bound:
        # Locked meanwhile (failures from elsewhere at this address): even the right code is refused.
        if form.is_valid() and AxesProxyHandler.is_allowed(request, credentials):
            devices = TOTPDevice.objects.devices_for_user(user, confirmed=True)
            wait = services.code_wait_seconds(devices=devices)
            device = None if wait else services.verify_second_factor(user=user, token=form.cleaned_data["code"])
            if device is not None:
                backend = request.session.get(PENDING_BACKEND, PASSWORD_BACKEND)
                _end_second_step(request)
                auth_login(request, user, backend=backend)
                otp_login(request, device)
                return HttpResponseRedirect(next_url)
            form.add_error("code", _wait_message(wait) if wait else str(WRONG_CODE))
        # A refused code counts as a failed sign-in: for the lockout (django-axes) and the security log.
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        if getattr(request, "axes_locked_out", False):
            _end_second_step(request)
    context = {
        **site.each_context(request),
        "title": _("Two-step verification"),
        "subtitle": None,
        "form": form,
        "username": user.get_username(),
        REDIRECT_FIELD_NAME: next_url,
    }
    return render(request, "accounts/second_factor.html", context)


def _qr_code(device: TOTPDevice) -> str:
    qr = segno.make(device.config_url, error="m")
    # Inline SVG: no image request, nothing outside the page; dark on white whatever the admin's theme.
    return mark_safe(qr.svg_inline(scale=5, dark="#000", light="#fff", title=_("QR code for your authenticator app")))


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@csrf_protect
@never_cache
def enrol_second_factor(request: HttpRequest, *, site: admin.AdminSite) -> HttpResponse:
    """Set up an authenticator app: its QR code and key, then a code that proves it works."""
    user = request.user
    next_url = _next_url(request)
    if not (user.is_authenticated and can_use_workspace(user)):
        return _redirect("admin:login", request.get_full_path())
    if request.method == "POST" and "cancel" in request.POST:
        auth_logout(request)
        return HttpResponseRedirect(reverse("admin:login"))
    verified = user.is_verified()
    replacing = user_has_device(user, confirmed=True)
    if replacing and not verified:
        # Only the code of the present authenticator may replace it, never the password alone.
        return _redirect("admin:login", next_url)
    device = services.start_totp_enrolment(user=user)
    form = SecondFactorForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        wait = services.code_wait_seconds(devices=[device])
        code = form.cleaned_data["code"]
        confirmed = (
            None
            if wait
            else services.confirm_totp_device(device=device, token=code, address=client_address(request) or "-")
        )
        if confirmed is not None:
            otp_login(request, confirmed)
            messages.success(request, _("Two-step verification is on: each sign-in will ask for a code."))
            return HttpResponseRedirect(next_url)
        form.add_error("code", _wait_message(wait) if wait else str(WRONG_CODE))
    context = {
        **site.each_context(request),
        "title": _("Two-step verification"),
        "subtitle": None,
        "form": form,
        "qr_code": _qr_code(device),
        "secret": _grouped(b32encode(device.bin_key).decode()),
        "replacing": replacing,
        "required": settings.OTP_REQUIRED,
        REDIRECT_FIELD_NAME: next_url,
    }
    return render(request, "accounts/second_factor_enrol.html", context)


class InvitationAcceptView(PasswordResetConfirmView):
    """The link of an invitation: choose a password (Django's form and validators), then sign in."""

    template_name = "accounts/invitation_accept.html"
    title = gettext_lazy("Choose your password")
    site: admin.AdminSite | None = None

    def get_user(self, uidb64: str) -> Any:
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active else None

    def form_valid(self, form: Any) -> HttpResponse:
        user = services.accept_invitation(user=form.user, password=form.cleaned_data["new_password1"])
        del self.request.session[INTERNAL_RESET_SESSION_TOKEN]
        return continue_after_password(self.request, user, backend=PASSWORD_BACKEND, next_url=reverse("admin:index"))

    def get_context_data(self, **kwargs: Any) -> dict:
        context = super().get_context_data(**kwargs)
        context.update(self.site.each_context(self.request))
        if not context["validlink"]:
            context["title"] = _("This invitation link no longer works")
        context["valid_days"] = settings.PASSWORD_RESET_TIMEOUT // (24 * 60 * 60)
        return context


def lockout(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """django-axes's answer to a locked-out sign-in (AXES_LOCKOUT_CALLABLE): a page that says for how long."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    minutes = max(1, math.ceil(seconds / 60))
    message = ngettext(
        "Too many failed sign-ins: this account is locked for %(minutes)s minute from this address.",
        "Too many failed sign-ins: this account is locked for %(minutes)s minutes from this address.",
        minutes,
    ) % {"minutes": minutes}
    context = {
        **admin.site.each_context(request),
        "title": _("Account locked"),
        "subtitle": None,
        "message": message,
    }
    response = render(request, "accounts/lockout.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response
