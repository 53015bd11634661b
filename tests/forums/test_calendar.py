import datetime
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from commitments.scale_data import Sizes, generate_scale_data
from forums.calendar import PAST_FORUMS
from forums.models import Forum
from tests.factories import ActionPlanFactory, CommitmentFactory, ForumFactory

pytestmark = pytest.mark.django_db

LONG_TITLE = (
    "Égalité d'accès aux données publiques : décisions algorithmiques, transparence des élus "
    "et participation citoyenne en Île-de-France, à Mayotte et à La Réunion — débat ouvert €€€"
)


def calendar_url(language: str = "fr") -> str:
    with translation.override(language):
        return reverse("forums:calendar")


def unfold(body: bytes) -> list[tuple[str, str]]:
    """The content lines of a calendar as (name with its parameters, raw value), folds undone."""
    text = body.decode()
    assert text.endswith("\r\n")
    lines = re.sub(r"\r\n[ \t]", "", text).split("\r\n")[:-1]
    return [tuple(line.split(":", 1)) for line in lines]


def unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda match: "\n" if match[1] in "nN" else match[1], value)


def events(body: bytes) -> list[dict[str, str]]:
    """Each VEVENT's properties, TEXT values left escaped."""
    found: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for name, value in unfold(body):
        if (name, value) == ("BEGIN", "VEVENT"):
            current = {}
        elif (name, value) == ("END", "VEVENT"):
            found.append(current)
            current = None
        elif current is not None:
            current[name] = value
    return found


def only_event(client: Client, url: str | None = None) -> dict[str, str]:
    response = client.get(url or calendar_url())
    [event] = events(response.content)
    return event


def test_the_feed_is_a_utf8_calendar_with_crlf_lines(client: Client) -> None:
    ForumFactory(theme="Première ligne\nseconde ligne")

    response = client.get(calendar_url())

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == 'inline; filename="forums-open-etat.ics"'
    assert not response.cookies
    body = response.content
    assert body.count(b"\n") == body.count(b"\r\n")
    assert body.count(b"\r") == body.count(b"\r\n")
    lines = unfold(body)
    assert lines[0] == ("BEGIN", "VCALENDAR")
    assert lines[-1] == ("END", "VCALENDAR")
    properties = dict(lines)
    assert properties["VERSION"] == "2.0"
    assert properties["PRODID"]
    assert properties["CALSCALE"] == "GREGORIAN"
    assert properties["METHOD"] == "PUBLISH"
    assert properties["X-WR-TIMEZONE"] == "Europe/Paris"
    assert properties["REFRESH-INTERVAL;VALUE=DURATION"] == "PT12H"
    assert properties["X-PUBLISHED-TTL"] == "PT12H"


def test_long_lines_are_folded_at_75_octets_without_splitting_a_character(client: Client) -> None:
    forum = ForumFactory(title=LONG_TITLE, theme=LONG_TITLE * 3)

    body = client.get(calendar_url()).content

    physical = body.split(b"\r\n")
    assert max(len(line) for line in physical) <= 75
    # A character cut in two would make both halves undecodable.
    for line in physical:
        line.decode()
    assert sum(line.startswith(b" ") for line in physical) >= 6
    [event] = events(body)
    assert unescape(event["SUMMARY"]) == str(forum)
    assert unescape(event["DESCRIPTION"]).startswith(LONG_TITLE * 3 + "\n\n")


def test_semicolons_commas_backslashes_and_line_breaks_are_escaped(client: Client) -> None:
    title = r"Budget; données, ouvertes\fermées"
    ForumFactory(title=title, place="Paris, Assemblée nationale", theme="Ligne 1\r\nLigne 2; a, b")

    event = only_event(client)

    assert event["SUMMARY"].endswith(r"Budget\; données\, ouvertes\\fermées")
    assert event["LOCATION"] == r"Paris\, Assemblée nationale"
    assert event["DESCRIPTION"].startswith(r"Ligne 1\nLigne 2\; a\, b\n\n")
    assert unescape(event["SUMMARY"]).endswith(title)


def test_a_summer_forum_is_written_in_utc(client: Client) -> None:
    ForumFactory(date=datetime.date(2018, 5, 24), start_time=datetime.time(18, 30), end_time=datetime.time(20, 0))

    event = only_event(client)

    assert event["DTSTART"] == "20180524T163000Z"
    assert event["DTEND"] == "20180524T180000Z"


def test_a_winter_forum_without_an_end_lasts_two_hours(client: Client) -> None:
    ForumFactory(date=datetime.date(2018, 12, 10), start_time=datetime.time(9, 0))

    event = only_event(client)

    assert event["DTSTART"] == "20181210T080000Z"
    assert event["DTEND"] == "20181210T100000Z"


def test_a_forum_without_a_known_hour_takes_the_whole_day(client: Client) -> None:
    ForumFactory(date=datetime.date(2018, 5, 31), start_time=None, end_time=datetime.time(12, 0))

    event = only_event(client)

    assert event["DTSTART;VALUE=DATE"] == "20180531"
    assert event["DTEND;VALUE=DATE"] == "20180601"
    assert "DTSTART" not in event


def test_each_event_names_its_forum_and_links_to_its_page(client: Client) -> None:
    forum = ForumFactory(place="Bercy")

    event = only_event(client)

    assert unescape(event["SUMMARY"]) == str(forum)
    assert event["URL"] == f"http://testserver/forums/{forum.pk}/"
    assert event["LOCATION"] == "Bercy"
    assert event["STATUS"] == "CONFIRMED"


def test_events_are_stamped_with_the_last_change_to_the_data(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("opengov.middleware.CODE_CHANGED_AT", datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    ForumFactory()
    # Earlier today: a stamp is never older than today's midnight (pages depend on the date too).
    changed = timezone.now().replace(microsecond=0) - datetime.timedelta(seconds=1)
    Forum.history.update(history_date=changed)

    event = only_event(client)

    assert event["DTSTAMP"] == f"{changed.astimezone(datetime.UTC):%Y%m%dT%H%M%SZ}"


def test_the_description_gives_theme_organisers_commitments_links_and_doubts(client: Client) -> None:
    plan = ActionPlanFactory(slug="pan-2018-2020")
    commitment = CommitmentFactory(plan=plan, number=7, title="Ouvrir les algorithmes publics")
    forum = ForumFactory(
        theme="Les algorithmes publics",
        organisers=["Etalab", "Ministère des Armées"],
        report_url="https://example.org/compte-rendu",
        registration_url="https://example.org/inscription",
        is_verified=False,
        source_note="Annoncé sur un réseau social.",
    )
    forum.commitments.add(commitment)

    event = only_event(client, calendar_url("en"))

    description = unescape(event["DESCRIPTION"])
    assert description.startswith("Les algorithmes publics\n\n")
    assert "Organisers: Etalab, Ministère des Armées" in description
    assert (
        "Commitments discussed:\npan-2018-2020 no. 7 Ouvrir les algorithmes publics: "
        "http://testserver/en/plans/pan-2018-2020/engagements/7/"
    ) in description
    assert "Report: https://example.org/compte-rendu" in description
    assert "Registration: https://example.org/inscription" in description
    assert f"Forum page: http://testserver/en/forums/{forum.pk}/" in description
    assert description.endswith("Not verified: Annoncé sur un réseau social.")


def test_a_verified_forum_without_details_says_no_more_than_its_page(client: Client) -> None:
    forum = ForumFactory()

    event = only_event(client, calendar_url("en"))

    assert unescape(event["DESCRIPTION"]) == f"Forum page: http://testserver/en/forums/{forum.pk}/"
    assert "LOCATION" not in event


def test_forums_come_in_date_order(client: Client) -> None:
    later = ForumFactory(date=datetime.date(2019, 3, 1))
    earlier = ForumFactory(date=datetime.date(2018, 3, 1))

    found = events(client.get(calendar_url()).content)

    assert [event["UID"] for event in found] == [f"forum-{earlier.pk}@testserver", f"forum-{later.pk}@testserver"]


def test_the_uids_and_the_whole_feed_stay_the_same_between_requests(client: Client) -> None:
    forums = ForumFactory.create_batch(2)

    first = client.get(calendar_url())
    second = client.get(calendar_url(), HTTP_IF_NONE_MATCH=first["ETag"])

    assert [event["UID"] for event in events(first.content)] == [f"forum-{forum.pk}@testserver" for forum in forums]
    # Same bytes, same ETag: a subscribed calendar polling the feed gets a 304 until the data changes.
    assert second.status_code == 304
    assert client.get(calendar_url()).content == first.content


def test_the_query_count_does_not_grow_with_the_forums(client: Client, django_assert_num_queries: object) -> None:
    def forum_with_commitments() -> Forum:
        forum = ForumFactory(organisers=["Etalab"])
        forum.commitments.add(CommitmentFactory(), CommitmentFactory())
        return forum

    forum_with_commitments()
    with CaptureQueriesContext(connection) as queries:
        client.get(calendar_url())
    for _ in range(4):
        forum_with_commitments()

    with django_assert_num_queries(len(queries)):
        response = client.get(calendar_url())
    assert len(events(response.content)) == 5


def test_the_calendar_is_named_in_the_language_of_its_url(client: Client) -> None:
    assert calendar_url("en") == "/en/forums/calendrier.ics"

    english = dict(unfold(client.get(calendar_url("en")).content))
    french = dict(unfold(client.get(calendar_url("fr")).content))

    assert english["X-WR-CALNAME"] == "Open d'État forums"
    assert french["X-WR-CALNAME"] == "Forums Open d'État"


def test_html_in_a_title_comes_out_as_plain_text(client: Client) -> None:
    forum = ForumFactory(title="<b>Données</b> & <script>alert(1)</script>")

    event = only_event(client)

    assert unescape(event["SUMMARY"]) == str(forum)
    assert "<b>Données</b> & <script>" in event["SUMMARY"]


def test_the_feed_holds_the_upcoming_forums_and_the_latest_past_ones(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("forums.calendar.PAST_FORUMS", 2)
    today = timezone.localdate()

    def held(days: int) -> Forum:
        return ForumFactory(date=today + datetime.timedelta(days=days))

    held(-400)
    held(-30)
    # Held the same day as the one before: the one created later counts as the later, so that the feed is the
    # same from one request to the next.
    tied = held(-30)
    yesterday, same_day, next_one = held(-1), held(0), held(90)

    found = events(client.get(calendar_url()).content)

    assert [event["UID"] for event in found] == [
        f"forum-{forum.pk}@testserver" for forum in [tied, yesterday, same_day, next_one]
    ]


def test_the_feed_says_what_it_holds(client: Client) -> None:
    properties = dict(unfold(client.get(calendar_url("en")).content))

    expected = f"The upcoming Open d'État forums and the {PAST_FORUMS} latest past ones."
    assert unescape(properties["DESCRIPTION"]) == expected
    assert unescape(properties["X-WR-CALDESC"]) == expected


def test_the_feed_costs_the_same_with_four_times_the_forums(client: Client) -> None:
    small = Sizes(
        owners=1, administrations=4, plans=2, commitments=12, indicators=1, values=1, forums=40, contributions=1
    )

    def feed() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(calendar_url())
        upcoming = Forum.objects.filter(date__gte=timezone.localdate()).count()
        assert len(events(response.content)) == upcoming + PAST_FORUMS
        return len(queries)

    generate_scale_data(sizes=small, seed=1, replace=False, today=timezone.localdate())
    queries = feed()
    generate_scale_data(sizes=small.scaled(4), seed=1, replace=True, today=timezone.localdate())

    assert feed() == queries
    # Forums are spread over fourteen years and the next sixty days: most past ones are left out.
    assert Forum.objects.filter(date__lt=timezone.localdate()).count() > 4 * PAST_FORUMS
