"""The forums as an iCalendar feed (RFC 5545) that calendar applications subscribe to.

It holds the upcoming forums and the PAST_FORUMS latest past ones: what a subscribed calendar shows
ahead and a little history, at the same cost however many forums the instance has held (issue 9).

Written by hand rather than with a library: the feed needs a handful of properties, and RFC 5545's
few traps (CRLF, folding at 75 octets, escaping TEXT values) are each a few lines.
"""

import datetime
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from commitments.templatetags.opengov import localized
from forums.models import Forum, commitments_discussed
from opengov.addresses import Addresses
from opengov.middleware import last_data_change

LINE_OCTETS = 75
# Forums are announced weeks ahead: subscribed calendars need not poll more than twice a day.
REFRESH_INTERVAL = "PT12H"
# Past forums in the feed, latest first: a count rather than a period, so that an instance whose forums
# stopped years ago (the reference data's are from 2018-2019) still shows them, and one holding every
# government's forums shows as many. Twenty is about three years of one government's bimonthly forums.
PAST_FORUMS = 20
# A timed event without an end lasts no time at all (RFC 5545, 3.6.1) and calendars draw it as a
# sliver; when the end is unknown we show the usual length of a forum instead.
DEFAULT_DURATION = datetime.timedelta(hours=2)
# The grammar allows no control character in a value but the tab; line breaks are escaped as \n.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545, 3.3.11): backslash, semicolon, comma and line breaks escaped."""
    value = CONTROL_CHARACTERS.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> bytes:
    """A content line in lines of at most 75 octets, each continuation led by a space (RFC 5545, 3.1)."""
    data = line.encode()
    parts = []
    limit = LINE_OCTETS
    while len(data) > limit:
        cut = limit
        # Back off to the start of a UTF-8 character: a split one would not decode on either line.
        while data[cut] & 0xC0 == 0x80:
            cut -= 1
        parts.append(data[:cut])
        data = data[cut:]
        limit = LINE_OCTETS - 1  # the leading space counts
    parts.append(data)
    return b"\r\n ".join(parts)


def _utc(moment: datetime.datetime) -> str:
    return f"{moment.astimezone(datetime.UTC):%Y%m%dT%H%M%SZ}"


def _dates(forum: Forum) -> list[str]:
    """Times in UTC, so that the feed needs no VTIMEZONE; a forum without a known hour takes the whole day."""
    if forum.start_time is None:
        # DTEND is exclusive: a one-day event ends on the next day.
        next_day = forum.date + datetime.timedelta(days=1)
        return [f"DTSTART;VALUE=DATE:{forum.date:%Y%m%d}", f"DTEND;VALUE=DATE:{next_day:%Y%m%d}"]
    zone = ZoneInfo(settings.TIME_ZONE)
    start = datetime.datetime.combine(forum.date, forum.start_time, tzinfo=zone)
    if forum.end_time is None:
        # Added in UTC: two hours of wall-clock time are not two hours on the night clocks change.
        end = start.astimezone(datetime.UTC) + DEFAULT_DURATION
    else:
        end = datetime.datetime.combine(forum.date, forum.end_time, tzinfo=zone)
    return [f"DTSTART:{_utc(start)}", f"DTEND:{_utc(end)}"]


def _description(forum: Forum, address: Addresses) -> str:
    paragraphs = []
    if forum.theme:
        paragraphs.append(forum.theme)
    if forum.organisers:
        paragraphs.append(_("Organisers: %(names)s") % {"names": ", ".join(forum.organisers)})
    commitments = [
        _("%(plan)s no. %(number)s %(title)s: %(url)s")
        % {
            "plan": commitment.plan_slug,
            "number": commitment.number,
            "title": localized(commitment, "title"),
            "url": address("commitments:detail", commitment.plan_slug, commitment.number),
        }
        for commitment in forum.discussed
    ]
    if commitments:
        paragraphs.append("\n".join([_("Commitments discussed:"), *commitments]))
    links = []
    if forum.report_url:
        links.append(_("Report: %(url)s") % {"url": forum.report_url})
    if forum.registration_url:
        links.append(_("Registration: %(url)s") % {"url": forum.registration_url})
    # Google Calendar and Outlook do not show the URL property: the page's address goes here too.
    links.append(_("Forum page: %(url)s") % {"url": address("forums:detail", forum.pk)})
    paragraphs.append("\n".join(links))
    if not forum.is_verified:
        paragraphs.append(
            _("Not verified: %(note)s") % {"note": forum.source_note}
            if forum.source_note
            else _("Not verified: this forum rests on a weaker source.")
        )
    return "\n\n".join(paragraphs)


def _event(forum: Forum, request: HttpRequest, address: Addresses, stamp: str) -> list[str]:
    lines = [
        "BEGIN:VEVENT",
        # The host makes the UID unique across sites; the primary key keeps it stable across edits.
        f"UID:{escape_text(f'forum-{forum.pk}@{request.get_host()}')}",
        f"DTSTAMP:{stamp}",
        f"SUMMARY:{escape_text(str(forum))}",
        *_dates(forum),
    ]
    if forum.place:
        lines.append(f"LOCATION:{escape_text(forum.place)}")
    lines += [
        f"DESCRIPTION:{escape_text(_description(forum, address))}",
        f"URL:{address('forums:detail', forum.pk)}",
        "STATUS:CONFIRMED",
        "END:VEVENT",
    ]
    return lines


@dataclass(frozen=True)
class Discussed:
    """What the description names of a commitment discussed at a forum."""

    plan_slug: str
    number: int
    title: str
    title_en: str


def calendar_forums(today: datetime.date) -> list[Forum]:
    """The upcoming forums (today's included) and the PAST_FORUMS latest past ones, in date order, each with the
    commitments it discussed (`discussed`), in their plans' order."""
    # The primary key breaks ties: the same data must give the same feed, or its ETag would change.
    latest_past = Forum.objects.filter(date__lt=today).order_by("-date", "-start_time", "-pk")[:PAST_FORUMS]
    forums = list(
        Forum.objects.filter(Q(date__gte=today) | Q(pk__in=latest_past.values("pk"))).order_by(
            "date", "start_time", "pk"
        )
    )
    # Rows rather than commitments and plans: building those was half the feed's time at the OGP scale (issue 9).
    discussed = commitments_discussed(forums, "plan__slug", "number", "title", "title_en")
    for forum in forums:
        forum.discussed = [Discussed(*commitment) for commitment in discussed[forum.pk]]
    return forums


@require_safe
def forum_calendar(request: HttpRequest) -> HttpResponse:
    forums = calendar_forums(timezone.localdate())
    # The last change to the data rather than now: the same data gives the same bytes, so that a
    # subscribed calendar polling the feed gets a 304 from the ETag until something changes.
    stamp = _utc(last_data_change())
    name = escape_text(_("Open d'État forums"))
    description = escape_text(
        _("The upcoming Open d'État forums and the %(count)s latest past ones.") % {"count": PAST_FORUMS}
    )
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//opengov//Open d'Etat forums//FR",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"NAME:{name}",
        f"X-WR-CALNAME:{name}",
        # RFC 7986's DESCRIPTION, and the older name some clients read, so that subscribers know what it holds.
        f"DESCRIPTION:{description}",
        f"X-WR-CALDESC:{description}",
        f"X-WR-TIMEZONE:{settings.TIME_ZONE}",
        f"REFRESH-INTERVAL;VALUE=DURATION:{REFRESH_INTERVAL}",
        f"X-PUBLISHED-TTL:{REFRESH_INTERVAL}",
    ]
    # Each kind of page reversed once: reverse() for each commitment discussed was a third of the feed's time.
    address = Addresses(request)
    for forum in forums:
        lines += _event(forum, request, address, stamp)
    lines.append("END:VCALENDAR")
    response = HttpResponse(
        b"".join(fold(line) + b"\r\n" for line in lines), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="forums-open-etat.ics"'
    return response
