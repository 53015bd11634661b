"""The HTML of a commitment's card, with its progress bar and completion badge, as lists of commitments repeat it.

Written in Python, not in templates, for speed (issue 9, docs/adr/0008-rows-written-in-python.md): the search and
a plan's page list up to thirty cards, and Django's template engine took about 0.3 ms to write each, three
templates deep. The sentences are the same messages as before, so their translations stand; every value is
escaped (`text`) before it goes into a format string.
"""

import html

from django.utils.formats import localize
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext

from commitments.models import Commitment, CommitmentCompletion

_CARD = (
    '<div class="fr-card fr-enlarge-link">\n'
    '  <div class="fr-card__body">\n'
    '    <div class="fr-card__content">\n'
    '      <h3 class="fr-card__title"><a href="{address}">{number} — {title}</a></h3>\n'
    '      <div class="fr-card__desc">\n'
    "        {progress}\n"
    "        {carriers}\n"
    "      </div>\n"
    '      <div class="fr-card__start">\n'
    '        <ul class="fr-badges-group">\n'
    "          <li>{completion}</li>\n"
    "          {late}\n"
    "        </ul>\n"
    "        {detail}\n"
    "      </div>\n"
    "    </div>\n"
    "  </div>\n"
    "</div>"
)
_CARRIERS = '<p class="fr-text--sm fr-mt-1w fr-mb-0">{carriers}</p>'
_LATE = '<li><p class="fr-badge fr-badge--error fr-badge--no-icon">{late}</p></li>'
_DETAIL = '<p class="fr-card__detail">{detail}</p>'
_PROGRESS_UNKNOWN = (
    '\n<div class="og-progress">\n'
    '  <p class="fr-mb-0"><span class="fr-text--bold">{label}</span> <span class="og-unknown">{unknown}</span></p>\n'
    "</div>\n"
)
_PROGRESS = (
    '\n<div class="og-progress">\n'
    '  <p class="fr-mb-1v" id="{id}"><span class="fr-text--bold">{label}</span> {progress} %</p>\n'
    '  <progress max="100" value="{progress}" aria-labelledby="{id}">{progress} %</progress>\n'
    "</div>\n"
)
_BADGE = '<p class="fr-badge {tone}fr-badge--no-icon">{label}</p>'
# The DSFR badge of each completion: done, well advanced, behind, dropped; new for any other.
_BADGE_TONES = {
    CommitmentCompletion.COMPLETE: "fr-badge--success ",
    CommitmentCompletion.SUBSTANTIAL: "fr-badge--info ",
    CommitmentCompletion.LIMITED: "fr-badge--warning ",
    CommitmentCompletion.NOT_STARTED: "fr-badge--warning ",
    CommitmentCompletion.WITHDRAWN: "",
}


def text(value: object) -> str:
    """A value as text in HTML: what Django's `escape` writes, without its checks for lazy values (a third of a
    row's cost). Not marked safe: the row that takes it is."""
    return html.escape(str(value))


def count(number: int) -> str:
    """A whole number as the pages write it (localized). Below a thousand it is its digits in every language, and
    localize() costs as much as the rest of a row."""
    return str(number) if -1000 < number < 1000 else localize(number)


def progress_bar(progress: int | None, id: str) -> SafeString:
    """A progress in percent, with its label (`id` names the label), or "not reported"."""
    if progress is None:
        return mark_safe(_PROGRESS_UNKNOWN.format(label=gettext("Progress:"), unknown=gettext("not reported")))
    return mark_safe(_PROGRESS.format(id=text(id), label=gettext("Progress:"), progress=text(count(progress))))


def completion_badge(commitment: Commitment) -> SafeString:
    """A commitment's completion as a badge."""
    tone = _BADGE_TONES.get(commitment.completion, "fr-badge--new ")
    return mark_safe(_BADGE.format(tone=tone, label=text(commitment.completion_label)))


def commitment_card(commitment: Commitment) -> SafeString:
    """A commitment in a list: its number and title, progress, carriers, completion, lateness, OGP number and axis.

    The commitment comes as `with_related()` reads it; `with_lateness()` adds whether it is late."""
    english = get_language() == "en"
    support = gettext("support")
    names = []
    for carrier in commitment.carriers.all():
        administration = carrier.administration
        name = text((english and administration.name_en) or administration.name)
        names.append(f"{name} ({support})" if carrier.role == "support" else name)
    axis = commitment.axis
    detail = " · ".join(
        part
        for part in (
            text(commitment.ogp_id) if commitment.ogp_id else "",
            gettext("Axis %(number)s") % {"number": text(count(axis.number))} if axis else "",
        )
        if part
    )
    return mark_safe(
        _CARD.format(
            address=text(commitment.get_absolute_url()),
            number=gettext("Commitment %(number)s") % {"number": text(count(commitment.number))},
            title=text((english and commitment.title_en) or commitment.title),
            progress=progress_bar(commitment.progress, f"progress-commitment-{commitment.pk}"),
            carriers=_CARRIERS.format(carriers=" · ".join(names)) if names else "",
            completion=completion_badge(commitment),
            late=_LATE.format(late=gettext("Late")) if getattr(commitment, "is_late", False) else "",
            detail=_DETAIL.format(detail=detail) if detail else "",
        )
    )
