"""The Content-Security-Policy header (settings.CONTENT_SECURITY_POLICY), which Django 5.2 does not set."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class ContentSecurityPolicyMiddleware:
    """Sets the site's policy on every response that has none of its own, whatever produced it: a page,
    the API, a static file, an error. Only the scripts the site serves run; a script injected into a page
    (a citizen's text that escaped escaping, say) does not."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        return response
