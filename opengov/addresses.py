"""Addresses for many rows from one reverse(): a sitemap file or an API page writes hundreds of links to the same
kind of page, and a reverse() for each cost a fifth of an API page's time, most of a sitemap file's (issue 9).

    template = as_template(reverse_with_placeholders("commitments:detail", 2))  # "/plans/{0}/engagements/{1}/"
    fill(template, ["2018-2020", 4])                                               # "/plans/2018-2020/engagements/4/"

Addresses does both for any page by name, once per name:

    addresses = Addresses(request)                     # absolute for the request's host; Addresses() for paths
    addresses("commitments:detail", "2018-2020", 4)    # "http://host/plans/2018-2020/engagements/4/"

path_to() does it for the models' get_absolute_url(), its templates kept for the life of the process:

    path_to("commitments:detail", "2018-2020", 4)      # "/plans/2018-2020/engagements/4/" (in French)
"""

import html
import re
from urllib.parse import quote

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import translation
from django.utils.http import RFC3986_SUBDELIMS

# What reverse() leaves unquoted in an argument.
URL_SAFE = RFC3986_SUBDELIMS + "/~:@"
# What quote() leaves as it is whatever it is told is safe.
UNQUOTED = re.compile(r"[A-Za-z0-9_.~-]*")


def _placeholders(count: int) -> list[str]:
    # Digits, which every converter of the project's addresses accepts, and which none of their fixed parts holds.
    return [str(10**12 + position) for position in range(count)]


def reverse_with_placeholders(name: str, count: int) -> str:
    """reverse(name) in the active language, placeholders for its `count` arguments: an address that may still be
    made absolute (build_absolute_uri() would quote a template's braces)."""
    return reverse(name, args=_placeholders(count))


def as_template(address: str, count: int) -> str:
    """The address from reverse_with_placeholders() as a template for fill()."""
    template = address.replace("{", "{{").replace("}", "}}")
    for position, placeholder in enumerate(_placeholders(count)):
        template = template.replace(placeholder, f"{{{position}}}")
    return template


def fill(template: str, args: list | tuple) -> str:
    """The address for these arguments, quoted as reverse() quotes them."""
    return template.format(*(_quoted(str(argument)) for argument in args))


def _quoted(text: str) -> str:
    # Slugs and numbers, nearly every argument, have nothing to quote: checking costs a fifth of quote().
    return text if UNQUOTED.fullmatch(text) else quote(text, safe=URL_SAFE)


def escaped_argument(argument: object) -> str:
    """An argument as fill() writes it, escaped for HTML or XML as Django's escape() would escape the whole
    address: escaping works character by character, so an escaped template filled with escaped arguments is the
    escaped address. What reverse() leaves unquoted includes & and ' (RFC 3986's sub-delimiters)."""
    text = str(argument)
    return text if UNQUOTED.fullmatch(text) else html.escape(quote(text, safe=URL_SAFE))


# path_to()'s templates, for the life of the process: the URL patterns do not change while it runs, but for tests
# that swap the URLconf (below).
_PATHS: dict[tuple, str] = {}


def path_to(name: str, *args: object) -> str:
    """reverse(name, args=args) for models' get_absolute_url(): a list page links each of its rows, and reverse()
    cost about 23 µs a link, fill() under 2 (issue 9). The template is kept per language, script prefix and
    URLconf, what reverse() depends on. Unlike reverse(), it does not check the arguments against the pattern:
    they are a model's keys and slugs, which the database and the forms keep valid."""
    key = (name, len(args), translation.get_language(), get_script_prefix(), get_urlconf())
    template = _PATHS.get(key)
    if template is None:
        template = _PATHS[key] = as_template(reverse_with_placeholders(name, len(args)), len(args))
    return fill(template, args)


@receiver(setting_changed)
def _forget_paths(*, setting: str, **kwargs: object) -> None:
    # As Django forgets its own resolvers (django.test.signals.root_urlconf_changed).
    if setting == "ROOT_URLCONF":
        _PATHS.clear()


class Addresses:
    """reverse(name, args=args) for many rows, absolute for a request's host if given one: each name is reversed
    once, in `language` if given, else in the language active then (one of these serves one request)."""

    def __init__(self, request: HttpRequest | None = None, language: str | None = None) -> None:
        self.request = request
        self.language = language
        self._templates: dict[tuple[str, int], str] = {}

    def __call__(self, name: str, *args: object) -> str:
        return fill(self.template(name, len(args)), args)

    def template(self, name: str, count: int) -> str:
        """The template for fill() of the page `name` with `count` arguments."""
        key = (name, count)
        if key not in self._templates:
            if self.language is None:
                address = reverse_with_placeholders(name, count)
            else:
                with translation.override(self.language):
                    address = reverse_with_placeholders(name, count)
            if self.request is not None:
                address = self.request.build_absolute_uri(address)
            self._templates[key] = as_template(address, count)
        return self._templates[key]
