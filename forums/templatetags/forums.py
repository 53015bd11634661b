from typing import Any

from django import template
from django.utils.safestring import SafeString

from forums import cards
from forums.accountability import Figures
from forums.models import Contribution, Forum

register = template.Library()


@register.simple_tag
def contribution_card(contribution: Contribution) -> SafeString:
    return cards.contribution_card(contribution)


@register.simple_tag
def contribution_subject(contribution: Contribution) -> SafeString:
    return cards.contribution_subject(contribution)


@register.simple_tag
def figures_row(subject: Any, figures: Figures, name_field: str) -> SafeString:
    return cards.figures_row(subject, figures, name_field)


@register.simple_tag
def forum_row(forum: Forum) -> SafeString:
    return cards.forum_row(forum)
