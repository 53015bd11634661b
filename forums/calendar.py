"""The forums as an iCalendar feed (RFC 5545) that calendar applications subscribe to."""

from django.http import HttpRequest, HttpResponse


def forum_calendar(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError
