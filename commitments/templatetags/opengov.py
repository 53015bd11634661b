import datetime
import functools
from decimal import Decimal
from typing import Any

from django import template
from django.conf import settings
from django.core.paginator import Page
from django.urls import translate_url
from django.utils.formats import date_format, number_format
from django.utils.safestring import SafeString
from django.utils.translation import get_language, ngettext

from commitments import cards
from commitments.models import Commitment
from commitments.permissions import can_edit_commitment

register = template.Library()


@register.filter
def localized(obj: Any, field: str) -> str:
    """The English version of a field on English pages when the data has one, the French otherwise."""
    if get_language() == "en":
        english = getattr(obj, f"{field}_en", "")
        if english:
            return english
    return getattr(obj, field)


@register.simple_tag(takes_context=True)
def page_in_language(context: template.Context, language: str) -> str:
    """The URL of the current page in another language, query string included."""
    request = context["request"]
    return translate_url(request.get_full_path(), language)


@register.filter
def figure(value: Decimal | int | None) -> str:
    """A figure in the page's locale (12 345,6 in French), without trailing zeros; "—" when missing."""
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        value = value.normalize()
    return number_format(value, use_l10n=True, force_grouping=True)


@functools.lru_cache(maxsize=8192)
def _day_text(date: datetime.date, language: str) -> str:
    return date_format(date, "DATE_FORMAT")


@register.filter(expects_localtime=True)
def day(value: datetime.date) -> str:
    """A date, or a moment's day, as `|date:"DATE_FORMAT"` writes it in the active language (a moment in local
    time: templates pass it so). Kept per language: pages write the same days again and again (an indicator's
    monthly values, a forum's contributions and answers), and formatting one cost a third of an indicator's
    row and a tenth of a contribution at the OGP scale (issue 9)."""
    if isinstance(value, datetime.datetime):
        value = value.date()
    return _day_text(value, get_language())


@register.filter
def every(value: datetime.timedelta) -> str:
    """How often something recurs, in the largest whole unit: "every day", "every 6 hours"."""
    seconds = int(value.total_seconds())
    if seconds % 86400 == 0:
        days = seconds // 86400
        return ngettext("every day", "every %(count)s days", days) % {"count": days}
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return ngettext("every hour", "every %(count)s hours", hours) % {"count": hours}
    minutes = max(1, seconds // 60)
    return ngettext("every minute", "every %(count)s minutes", minutes) % {"count": minutes}


@register.simple_tag(takes_context=True)
def may_update(context: template.Context, commitment: Any) -> bool:
    """Whether the person reading may update this commitment (can_edit_commitment), for a link to do it.

    Asked only of visitors who bring a session cookie: reading request.user opens the session, whose
    Vary: Cookie would keep every anonymous visitor's page out of the public caches.
    """
    request = context.get("request")
    if request is None or settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    return can_edit_commitment(request.user, commitment)


@register.filter
def elided_pages(page: Page) -> list:
    """The page numbers to link: the first, the last and two on each side of this one, "…" between. Every
    number would be hundreds of links on a list the size of every OGP member's."""
    return list(page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))


@register.simple_tag
def commitment_card(commitment: Commitment) -> SafeString:
    return cards.commitment_card(commitment)


@register.simple_tag
def progress_bar(progress: int | None, id: str) -> SafeString:
    return cards.progress_bar(progress, id)


@register.simple_tag
def completion_badge(commitment: Commitment) -> SafeString:
    return cards.completion_badge(commitment)
