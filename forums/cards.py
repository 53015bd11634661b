"""The HTML of the rows the forums' pages repeat: a contribution and its answer, the figures of an administration
or a plan, a forum in the list of forums.

Written in Python, not in templates, for speed (issue 9, docs/adr/0008-rows-written-in-python.md): a page lists up
to thirty contributions, sixty rows of figures or thirty forums, and Django's template engine took 0.1 to 0.4 ms
to write each of them. The sentences are the same messages as before, so their translations stand. Every value
goes through `commitments.cards.text` before it is put into a format string; only what is built here is marked
safe.
"""

import datetime
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext

from commitments.cards import count, text
from commitments.templatetags.opengov import day, figure, localized
from forums.accountability import Figures
from forums.models import Answer, Contribution, Forum

_CONTRIBUTION = (
    '<article class="og-contribution fr-mb-3w" id="contribution-{key}" aria-labelledby="contribution-{key}-title">\n'
    '  <h3 class="fr-h6 fr-mb-1v" id="contribution-{key}-title">'
    '<span class="fr-badge fr-badge--sm fr-badge--no-icon{tone}">{kind}</span>\n'
    "    {author}, {published}</h3>\n"
    '  <p class="og-contribution__body">{body}</p>\n'
    "{after}"
    "</article>\n"
)
_ANSWER = (
    '  <div class="og-answer fr-callout fr-callout--blue-ecume fr-py-2w">\n'
    '    <p class="fr-text--bold fr-mb-1w">{answered}{changed}</p>\n'
    '    <p class="fr-mb-0">{body}</p>\n'
    "  </div>\n"
)
_CHANGED = ' <span class="fr-text--xs">({changed})</span>'
_WAITING = '  <p class="fr-badge fr-badge--warning fr-badge--no-icon">{waiting}</p>\n'
_SUBJECT = '<p class="fr-text--sm fr-mb-0"><a href="{address}">{subject}</a></p>\n'
_FIGURES = (
    '<tr><th scope="row"><a href="{address}">{name}</a></th><td>{received}</td><td>{answered}</td>'
    "<td>{share} %</td><td>{median}</td></tr>\n"
)
_FORUM = (
    "    <tr>\n"
    "      <td>{date}</td>\n"
    '      <td><a href="{address}">{name}</a>{theme}</td>\n'
    "      <td>{place}</td>\n"
    "      <td>{contributions}</td>\n"
    "    </tr>\n"
)
_THEME = '<br><span class="fr-text--sm">{theme}</span>'
# A forum's theme in the list: enough to tell forums apart, the forum's page has it whole.
THEME_LENGTH = 140


def _lines(body: str) -> str:
    """A text's lines, as the `linebreaksbr` filter writes them."""
    return text(body.replace("\r\n", "\n").replace("\r", "\n")).replace("\n", "<br>")


def _day(moment: datetime.datetime) -> str:
    return text(day(timezone.localtime(moment)))


def _sentence(translated: str, **values: str) -> str:
    """A translated sentence with its values (escaped already), as {% blocktranslate %} writes it: the message is
    ours, not escaped."""
    return translated % values


def _answer(contribution: Contribution) -> Answer | None:
    try:
        return contribution.answer
    except ObjectDoesNotExist:  # read with its answer selected: no query, only the missing row
        return None


def contribution_card(contribution: Contribution) -> SafeString:
    """A published contribution and its answer, or how long it has awaited one.

    The contribution comes with its answer and the answer's administration (`for_display`,
    `published_contributions_prefetch`)."""
    if contribution.display_name:
        author = _sentence(gettext("from %(name)s"), name=text(contribution.display_name))
    else:
        author = gettext("from an anonymous contributor")  # our message, as {% translate %} writes it
    answer = _answer(contribution)
    if answer is not None:
        changed = ""
        if answer.updated_at:
            changed = _CHANGED.format(changed=_sentence(gettext("changed on %(date)s"), date=_day(answer.updated_at)))
        after = _ANSWER.format(
            answered=_sentence(
                gettext("Answered on %(date)s by %(name)s"),
                date=_day(answer.answered_at),
                name=text(answer.administration.name),
            ),
            changed=changed,
            body=_lines(answer.body),
        )
    elif (days := contribution.waiting_days) is not None:
        waiting = ngettext("Awaiting an answer for %(days)s day", "Awaiting an answer for %(days)s days", days)
        after = _WAITING.format(waiting=_sentence(waiting, days=text(count(days))))
    else:
        after = ""
    return mark_safe(
        _CONTRIBUTION.format(
            key=contribution.pk,
            tone=" fr-badge--blue-ecume" if contribution.is_question else "",
            kind=text(contribution.kind_label),
            author=author,
            published=_sentence(gettext("published on %(date)s"), date=_day(contribution.published_at)),
            body=_lines(contribution.body),
            after=after,
        )
    )


def contribution_subject(contribution: Contribution) -> SafeString:
    """A link to where a question was asked, above it in the list of every question: its commitment, or its forum.

    The contribution comes with its commitment's plan and its forum (`for_display`)."""
    if contribution.commitment_id:
        commitment = contribution.commitment
        number = _sentence(gettext("Commitment %(number)s"), number=text(count(commitment.number)))
        subject = f"{text(commitment.plan.slug)} — {number}"
    else:
        subject = text(contribution.forum)
    return mark_safe(_SUBJECT.format(address=text(contribution.get_absolute_url()), subject=subject))


def figures_row(subject: Any, figures: Figures, name_field: str) -> SafeString:
    """A row of the questions' figures: an administration's or a plan's, named by its `name_field` in the page's
    language."""
    median = "—"
    if figures.median_days is not None:
        median = _sentence(gettext("%(days)s days"), days=text(figure(figures.median_days)))
    share = figures.share_percent
    return mark_safe(
        _FIGURES.format(
            address=text(subject.get_absolute_url()),
            name=text(localized(subject, name_field)),
            received=text(count(figures.received)),
            answered=text(count(figures.answered)),
            share="—" if share is None else text(count(share)),
            median=median,
        )
    )


def forum_row(forum: Forum) -> SafeString:
    """A forum in a table of forums: when, which, where, and how many contributions it has published.

    The forum comes with `contribution_count` (`forums.views.forum_list`)."""
    when = day(forum.date)
    if forum.start_time:
        when = f"{when}, {time_format(forum.start_time, 'TIME_FORMAT')}"
    theme = ""
    if forum.theme:
        theme = _THEME.format(theme=text(Truncator(forum.theme).chars(THEME_LENGTH)))
    return mark_safe(
        _FORUM.format(
            date=text(when),
            address=text(forum.get_absolute_url()),
            name=text(forum),
            theme=theme,
            place=text(forum.place or "—"),
            contributions=text(count(forum.contribution_count)),
        )
    )
