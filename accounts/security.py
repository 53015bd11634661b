"""The security log (logger "opengov.security"): who signed in, failed, was locked out or refused, and from where.

Lines are for operators and stay in English. Names typed by a visitor are written with repr(), so that a
crafted name cannot forge a line; a password is never written.
"""

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("opengov.security")


def client_address(request: HttpRequest) -> str | None:
    """The client's address: the connecting one, or the one the trusted proxies in front say they served."""
    remote = request.META.get("REMOTE_ADDR") or None
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    # Each trusted proxy appends the address it received from; anything further left came from the client.
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    return forwarded[-count] if len(forwarded) >= count else remote


def _address(request: HttpRequest | None) -> str:
    return (client_address(request) if request is not None else None) or "-"


def _account_name(user: Any) -> str:
    return user.get_username() if user is not None and user.is_authenticated else "anonymous"


def log_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    logger.info("Login succeeded: user=%r address=%s", user.get_username(), _address(request))


def log_login_failure(sender: Any, credentials: dict, request: HttpRequest | None = None, **kwargs: Any) -> None:
    # Django hands over the credentials with the password already masked; only the name is kept here.
    address = client_address(request) if request is not None else "-"
    step = "second factor" if credentials.get("second_factor") else "password"
    logger.warning("Login failed (%s): username=%r address=%s", step, credentials.get("username") or "", address)


def log_lockout(sender: Any, request: HttpRequest, username: str, ip_address: str, **kwargs: Any) -> None:
    logger.warning("Login locked out: username=%r address=%s", username or "", ip_address or "-")


def log_refusal(request: HttpRequest) -> None:
    logger.warning(
        "Access refused (403): path=%r method=%s user=%r address=%s",
        request.path,
        request.method,
        _account_name(getattr(request, "user", None)),
        _address(request),
    )


def log_invitation_sent(*, user: Any, invited_by: Any) -> None:
    logger.info("Invitation sent: user=%r email=%r by=%r", user.get_username(), user.email, _account_name(invited_by))


def log_second_factor_enrolled(*, user: Any, address: str) -> None:
    logger.info("Second factor enrolled: user=%r address=%s", user.get_username(), address)


class RefusalLogMiddleware:
    """Writes every 403 to the security log, whatever refused it: the admin, a view, the CSRF check, the API."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # request.user is read only here: touching it on every request would mark public pages as
        # varying by cookie, and they must stay cacheable.
        if response.status_code == 403:
            log_refusal(request)
        return response


class StaleSessionMiddleware:
    """Forgets a session cookie that names an expired or unknown session.

    With SESSION_SAVE_EVERY_REQUEST, Django saves whatever session a cookie names, before looking whether
    it still exists: a visitor whose workspace session ran out would get a new, empty one on every public
    page, and those pages would stop being cacheable for them. Reading the session first (the save would
    read it anyway) lets SessionMiddleware see it is empty and delete the cookie instead. Goes right after
    SessionMiddleware, so that this runs before its response step.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.SESSION_COOKIE_NAME in request.COOKIES and hasattr(request, "session"):
            request.session.keys()
        return response
