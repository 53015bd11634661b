"""The HTML of the rows the forums' pages repeat: a contribution and its answer, the figures of an administration
or a plan.

Written in Python, not in templates, for speed (issue 9, docs/adr/0008-rows-written-in-python.md): a page lists up
to thirty contributions and sixty rows of figures, and Django's template engine took 0.2 to 0.4 ms to write each
of them, against about 0.03 ms here. The sentences are the same messages as before, so their translations stand.
"""

import datetime
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.template.defaultfilters import linebreaksbr
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

from commitments.templatetags.opengov import day, figure, localized
from forums.accountability import Figures
from forums.models import Answer, Contribution

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
_WAITING = '  <p class="fr-badge fr-badge--warning fr-badge--no-icon">{waiting}</p>\n'
_SUBJECT = '<p class="fr-text--sm fr-mb-0"><a href="{address}">{subject}</a></p>\n'
_FIGURES = (
    '<tr><th scope="row"><a href="{address}">{name}</a></th><td>{received}</td><td>{answered}</td>'
    "<td>{share} %</td><td>{median}</td></tr>\n"
)


def _day(moment: datetime.datetime) -> str:
    return day(timezone.localtime(moment))


def _sentence(translated: str, **values: Any) -> SafeString:
    """A translated sentence with its values escaped, as {% blocktranslate %} writes it: the message is ours."""
    return mark_safe(translated % {name: escape(value) for name, value in values.items()})


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
        author = _sentence(gettext("from %(name)s"), name=contribution.display_name)
    else:
        author = mark_safe(gettext("from an anonymous contributor"))  # our message, as {% translate %} writes it
    answer = _answer(contribution)
    if answer is not None:
        changed = ""
        if answer.updated_at:
            changed = format_html(
                ' <span class="fr-text--xs">({})</span>',
                _sentence(gettext("changed on %(date)s"), date=_day(answer.updated_at)),
            )
        after = format_html(
            _ANSWER,
            answered=_sentence(
                gettext("Answered on %(date)s by %(name)s"),
                date=_day(answer.answered_at),
                name=answer.administration.name,
            ),
            changed=changed,
            body=linebreaksbr(answer.body, autoescape=True),
        )
    elif (days := contribution.waiting_days) is not None:
        waiting = ngettext("Awaiting an answer for %(days)s day", "Awaiting an answer for %(days)s days", days)
        after = format_html(_WAITING, waiting=_sentence(waiting, days=localize(days)))
    else:
        after = ""
    return format_html(
        _CONTRIBUTION,
        key=contribution.pk,
        tone=" fr-badge--blue-ecume" if contribution.is_question else "",
        kind=contribution.kind_label,
        author=author,
        published=_sentence(gettext("published on %(date)s"), date=_day(contribution.published_at)),
        body=linebreaksbr(contribution.body, autoescape=True),
        after=after,
    )


def contribution_subject(contribution: Contribution) -> SafeString:
    """A link to where a question was asked, above it in the list of every question: its commitment, or its forum.

    The contribution comes with its commitment's plan and its forum (`for_display`)."""
    if contribution.commitment_id:
        commitment = contribution.commitment
        subject = format_html(
            "{} — {}",
            commitment.plan.slug,
            _sentence(gettext("Commitment %(number)s"), number=localize(commitment.number)),
        )
    else:
        subject = escape(contribution.forum)
    return format_html(_SUBJECT, address=contribution.get_absolute_url(), subject=subject)


def figures_row(subject: Any, figures: Figures, name_field: str) -> SafeString:
    """A row of the questions' figures: an administration's or a plan's, named by its `name_field` in the page's
    language."""
    median = "—"
    if figures.median_days is not None:
        median = _sentence(gettext("%(days)s days"), days=figure(figures.median_days))
    return format_html(
        _FIGURES,
        address=subject.get_absolute_url(),
        name=localized(subject, name_field),
        received=localize(figures.received),
        answered=localize(figures.answered),
        share="—" if figures.share_percent is None else localize(figures.share_percent),
        median=median,
    )
