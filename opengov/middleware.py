from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control


class PublicCacheMiddleware:
    """Lets browsers and shared caches keep the pages everyone sees alike.

    Only a successful GET that sets no cookie and has no Cache-Control of its own qualifies: the
    admin, forms and anything personal set a cookie or mark themselves private or never-cache.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.method in ("GET", "HEAD")
            and response.status_code == 200
            and not response.cookies
            and not response.has_header("Cache-Control")
            and "Cookie" not in response.get("Vary", "")
        ):
            patch_cache_control(response, public=True, max_age=settings.PUBLIC_CACHE_SECONDS)
        return response
