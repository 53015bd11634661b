"""Every change to accounts goes through these functions: invitations, passwords, second factors."""

import math
from collections.abc import Iterable
from functools import partial

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import security
from accounts.models import Membership, MembershipRole, User
from commitments.models import Administration
from commitments.services import save_with_history


def normalize_email(email: str) -> str:
    """One spelling per address, so that the same person cannot be invited twice under two."""
    return email.strip().lower()


@transaction.atomic
def invite_member(
    *,
    email: str,
    first_name: str,
    last_name: str,
    administration: Administration,
    role: str,
    invited_by: User,
    base_url: str,
) -> User:
    """Open a staff account without a password, with its membership, and e-mail a link to choose the password."""
    email = normalize_email(email)
    if User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email)).exists():
        raise ValidationError(
            {
                "email": _(
                    "E-mail address: an account already uses this address, and an address opens one account "
                    "only. Add a membership to that account instead."
                )
            }
        )
    if role not in MembershipRole.values:
        raise ValidationError({"role": _("Role: a member is either editor or coordinator.")})
    reason = _("Invited by e-mail.")
    # The address is the username: people remember it, and it is unique here anyway.
    user = User(username=email, email=email, first_name=first_name, last_name=last_name, is_staff=True)
    user.set_unusable_password()
    # User keeps no history of its own: the membership's first record names the inviter and the reason.
    save_with_history(user, by=invited_by, reason=reason)
    membership = Membership(user=user, administration=administration, role=role)
    save_with_history(membership, by=invited_by, reason=reason)
    transaction.on_commit(partial(send_invitation, user_id=user.pk, invited_by_id=invited_by.pk, base_url=base_url))
    return user


@transaction.atomic
def resend_invitation(*, user: User, invited_by: User, base_url: str) -> None:
    """E-mail a new link to someone who has not chosen a password yet; earlier links stop working."""
    if user.has_usable_password():
        raise ValidationError(
            _("%(user)s has already chosen a password: an invitation is for a first sign-in only.")
            % {"user": user.get_username()}
        )
    # A new unusable password changes what the links' tokens hang on: only the newest link opens.
    user.set_unusable_password()
    user.save(update_fields=["password"])
    transaction.on_commit(partial(send_invitation, user_id=user.pk, invited_by_id=invited_by.pk, base_url=base_url))


def invitation_url(*, user: User, base_url: str) -> str:
    """The link that sets a first password: valid PASSWORD_RESET_TIMEOUT, and once, as it hangs on the password."""
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return base_url.rstrip("/") + reverse("admin:invitation_accept", kwargs={"uidb64": uidb64, "token": token})


def send_invitation(*, user_id: int, invited_by_id: int, base_url: str) -> None:
    """Send the invitation e-mail; run after the commit that made the account, so the link finds it."""
    user = User.objects.get(pk=user_id)
    invited_by = User.objects.get(pk=invited_by_id)
    lines = [
        _("Hello %(name)s,") % {"name": user.get_full_name() or user.email},
        "",
        _(
            "%(inviter)s invites you to the opengov workspace, where administrations report on their "
            "open-government commitments."
        )
        % {"inviter": invited_by.get_full_name() or invited_by.get_username()},
        "",
        _("Choose your password at this address within %(days)s days (the link works once):")
        % {"days": settings.PASSWORD_RESET_TIMEOUT // (24 * 60 * 60)},
        invitation_url(user=user, base_url=base_url),
        "",
        _("Your username is your e-mail address: %(email)s") % {"email": user.email},
    ]
    if settings.OTP_REQUIRED:
        lines += ["", _("You will then set up two-step verification with an authenticator app on your phone.")]
    send_mail(
        subject=_("Your invitation to the opengov workspace"),
        message="\n".join(lines) + "\n",
        from_email=None,
        recipient_list=[user.email],
    )
    security.log_invitation_sent(user=user, invited_by=invited_by)


@transaction.atomic
def accept_invitation(*, user: User, password: str) -> User:
    """Set the password an invited person chose; the link that led here stops working with the old password."""
    password_validation.validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


@transaction.atomic
def start_totp_enrolment(*, user: User) -> TOTPDevice:
    """The authenticator being set up: the one an earlier visit began (the same QR code), else a new secret."""
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=_("Authenticator app"), confirmed=False)
    return device


def confirm_totp_device(*, device: TOTPDevice, token: str, address: str = "-") -> TOTPDevice | None:
    """Confirm an authenticator with a code it produced; it then replaces the person's other ones."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        # A wrong code counts towards the device's throttling: returning (not raising) commits it.
        if not device.verify_token(token):
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.devices_for_user(device.user).exclude(pk=device.pk).delete()
    security.log_second_factor_enrolled(user=device.user, address=address)
    return device


def verify_second_factor(*, user: User, token: str) -> TOTPDevice | None:
    """The person's authenticator that accepts this code, if any; each refusal slows the next try (throttling)."""
    # Returning rather than raising on a refusal, so that the throttling's count is committed.
    with transaction.atomic():
        for device in TOTPDevice.objects.devices_for_user(user, confirmed=True).select_for_update():
            if device.verify_token(token):
                return device
    return None


def code_wait_seconds(*, devices: Iterable[TOTPDevice]) -> int:
    """Seconds before these authenticators accept another code after wrong ones (django-otp's throttling)."""
    waits = [0]
    for device in devices:
        allowed, details = device.verify_is_allowed()
        if not allowed and details and details.get("locked_until"):
            waits.append(math.ceil((details["locked_until"] - timezone.now()).total_seconds()))
    return max(waits)
