"""Whole answers for anonymous readers, kept in the cache with the version of the data they show.

Every public page and API answer is the same for every anonymous reader until the data changes. The first
request renders it; the next ones get the stored bytes, without a query. What makes this correct is the
*data version* stored with each answer: it changes with every write to public data, and an answer is served
only while its version is the current one, so a recorded value is on the next request's page, from any
process. The version and the answer are read together, in one round trip to Redis.

The version lives in the shared cache (Redis) and every commit that saved or deleted a public row gives it
a new value (the signals below, and `data_changed()` where a service writes with `QuerySet.update`). With
the local-memory cache, each process has its own cache and version: a write in one process would not
reach the others, so the version there also carries the last change recorded in the database's history,
which every process reads (one query).

What is stored: a 200 answer to a GET from a reader without a session or a token, marked public by
PublicCacheMiddleware (so without cookies, never-cache or private marks), not streamed, and under
PAGE_CACHE_MAX_BYTES. Its key carries the code's version (a deployment renders afresh), today's
date (pages say "late" and "waiting for N days"), the host and scheme (answers hold absolute links) and,
for the API, the Accept header (JSON or CSV).
"""

import hashlib
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.db import DatabaseError, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpRequest, HttpResponse
from django.middleware.http import ConditionalGetMiddleware
from django.utils import timezone

from opengov.logs import REQUEST_ID_HEADER, current_request_id, incoming_request_id, log_access
from opengov.middleware import CODE_CHANGED_AT, last_data_change, without_body

VERSION_KEY = "opengov:data-version"
# The apps whose rows the public pages and the API show.
PUBLIC_APPS = {"commitments", "indicators", "forums"}
# An answer of an old version is replaced by the next request for it, or leaves after this long. Also
# the longest a stored answer can outlive its data if Redis was unreachable at the very moment a write told
# it (the write itself succeeds; see data_changed).
ENTRY_SECONDS = 10 * 60
CACHE_HEADER = "X-Cache"
# Where StoredAnswers leaves what it read for the middleware, when it does not answer itself.
LOOKED_UP = "opengov.page_cache.looked_up"
# A conditional request is left to the middleware, which answers it as ConditionalGetMiddleware would.
CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE")
# A stored answer: the data version it shows, its bytes, its headers.
Entry = tuple[str, bytes, list[tuple[str, str]]]


def _new_version() -> str:
    return uuid.uuid4().hex


def data_version() -> str:
    return _full_version(cache.get(VERSION_KEY))


def _full_version(stored: str | None) -> str:
    """The version answers are stored under, from the one read in the cache (None when it holds none)."""
    version = stored
    if version is None:
        # Unknown (first request, or Redis emptied): a new one, which no stored answer carries.
        cache.add(VERSION_KEY, _new_version(), None)
        version = cache.get(VERSION_KEY) or "unknown"
    if isinstance(caches["default"], LocMemCache):
        version = f"{version}:{last_data_change().timestamp()}"
    return version


def data_changed() -> None:
    """The public data changed: answers stored so far are no longer served.

    If Redis cannot be reached, the cache says nothing (opengov.cache) and the old version stays: answers
    stored before the write are served until they expire (ENTRY_SECONDS)."""
    cache.set(VERSION_KEY, _new_version(), None)


def data_changed_on_commit(**kwargs: Any) -> None:
    """A write to public data, renewing the version once its transaction commits (a signal receiver too)."""
    # After the commit: a reader between the write and its commit must not store the old answer under the
    # new version. Outside a transaction on_commit runs at once.
    if settings.PAGE_CACHE_ENABLED:
        transaction.on_commit(data_changed)


def connect_signals() -> None:
    """Called once the apps are loaded (opengov.apps.SiteConfig.ready)."""
    for model in apps.get_models(include_auto_created=True):
        if model._meta.app_label not in PUBLIC_APPS:
            continue
        post_save.connect(data_changed_on_commit, sender=model, dispatch_uid=f"page-cache-save-{model._meta.label}")
        post_delete.connect(data_changed_on_commit, sender=model, dispatch_uid=f"page-cache-delete-{model._meta.label}")
        m2m_changed.connect(data_changed_on_commit, sender=model, dispatch_uid=f"page-cache-m2m-{model._meta.label}")


# The settings the stored headers depend on: a restart that changes one of them renders afresh.
_HEADER_SETTINGS = (
    "CONTENT_SECURITY_POLICY",
    "X_FRAME_OPTIONS",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    "PUBLIC_CACHE_SECONDS",
)


def _key(request: HttpRequest) -> str:
    # Without the data version: an answer is stored with the version it shows, and served only while that
    # version is current. The version and the answer are then read in one round trip to Redis.
    parts = [
        str(CODE_CHANGED_AT.timestamp()),
        timezone.localdate().isoformat(),
        request.scheme,
        request.get_host(),
        request.get_full_path(),
        request.headers.get("Accept", "") if request.path.startswith("/api/") else "",
        # A stored answer carries the security headers the middleware below set when it was rendered.
        repr([getattr(settings, name, None) for name in _HEADER_SETTINGS]),
    ]
    return "opengov:page:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _anonymous(request: HttpRequest) -> bool:
    return settings.SESSION_COOKIE_NAME not in request.COOKIES and "Authorization" not in request.headers


class PageCacheMiddleware:
    """Serves a stored answer when there is one, and stores the answers that qualify (module docstring).

    Placed first after the request log, so that a hit runs nothing else: the answer is stored as it left
    every other middleware, with its security headers, ETag and Last-Modified, and served as it is. So this
    middleware does itself, on a hit, what those would: the 304 to a matching conditional request
    (ConditionalGetMiddleware) and a HEAD answer without its body. What may be stored is what
    PublicCacheMiddleware marked public; a redirect to HTTPS, a probe's answer or a static file never is."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.conditional = ConditionalGetMiddleware(get_response)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not (settings.PAGE_CACHE_ENABLED and request.method in ("GET", "HEAD") and _anonymous(request)):
            return self.get_response(request)
        if LOOKED_UP in request.META:  # StoredAnswers asked already, and found nothing current
            key, found = request.META[LOOKED_UP]
        else:
            try:
                key = _key(request)
            except DisallowedHost:
                # Left to the middleware below: a probe by the container's address, or the host check's 400.
                return self.get_response(request)
            found = cache.get_many([VERSION_KEY, key])
        # Read before rendering: an answer rendered while a write commits is stored under the version it
        # started with, which that write has already replaced, so it is never served.
        try:
            version = _full_version(found.get(VERSION_KEY))
        except DatabaseError:
            # With local memory the version reads the database. Without it, the request goes on uncached: a
            # probe says 503 (HealthMiddleware, below), a page gets the error page with its reference.
            return self.get_response(request)
        stored = found.get(key)
        if stored is not None and stored[0] == version:
            return self._serve(request, stored)
        response = self.get_response(request)
        # A HEAD answer has lost its body on its way here (HeadResponseMiddleware): only a GET's is stored.
        if request.method == "GET" and self._storable(response):
            cache.set(key, self._freeze(version, response), ENTRY_SECONDS)
            response[CACHE_HEADER] = "miss"
        return response

    @staticmethod
    def _storable(response: HttpResponse) -> bool:
        return (
            response.status_code == 200
            and not response.streaming
            and not response.cookies
            and "public" in response.get("Cache-Control", "")
            and len(response.content) <= settings.PAGE_CACHE_MAX_BYTES
        )

    @staticmethod
    def _freeze(version: str, response: HttpResponse) -> Entry:
        return version, response.content, list(response.items())

    def _serve(self, request: HttpRequest, stored: Entry) -> HttpResponse:
        _, content, headers = stored
        response = HttpResponse(content)
        for name, value in headers:
            response[name] = value
        response[CACHE_HEADER] = "hit"
        if request.method == "HEAD":
            return without_body(response)
        answer = self.conditional.process_response(request, response)
        if answer is not response:
            # A 304 (or 412) keeps only the validators and caching headers; the security headers were set on
            # the way out when it was rendered, and must be on this one too.
            for name, value in headers:
                if name.lower() not in ("content-type", "content-length") and not answer.has_header(name):
                    answer[name] = value
            answer[CACHE_HEADER] = "hit"
        return answer


class KeptAnswers:
    """The answers this process served lately, by key, within a budget of bytes (the least recently served leave
    first). Their bytes then need not come from Redis again: a hit reads the data version alone, a few bytes rather
    than a whole page, and serves a kept answer only if it carries that version, as it would one read from Redis.
    Fetching and unpickling 40 to 70 kB of answer from Redis was two thirds of a hit's CPU (issue 9)."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._size = 0
        # gunicorn's sync workers have one thread, but runserver and threaded workers have several.
        self._lock = threading.Lock()

    def get(self, key: str) -> Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: Entry) -> None:
        if len(entry[1]) > self.budget:
            return
        with self._lock:
            if key in self._entries:
                self._size -= len(self._entries.pop(key)[1])
            self._entries[key] = entry
            self._size += len(entry[1])
            while self._size > self.budget:
                _, oldest = self._entries.popitem(last=False)
                self._size -= len(oldest[1])


class StoredAnswers:
    """The site's WSGI application (opengov/wsgi.py): Django's, behind a shortcut for the commonest request.

    A plain GET from an anonymous reader whose answer is stored and current gets it here, before Django's
    handler, its signals and every middleware run: one round trip to Redis (for the data version alone when the
    answer is kept in this process: KeptAnswers), the access line, the bytes. That
    is most of what readers ask for, and it costs about a third of going through the middleware (measured
    in bench/throughput.sh). Anything else goes to Django as usual, with what was read here, and the
    middleware above answers the rest: conditional requests, HEAD, misses, and every request when the cache
    is local memory (its version needs a query, which belongs inside Django's request cycle)."""

    def __init__(self, application: Callable[[dict, Callable], Iterable[bytes]]) -> None:
        self.application = application
        self.kept = KeptAnswers(settings.PAGE_CACHE_KEPT_BYTES)

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if not self._plain(environ):
            return self.application(environ, start_response)
        started = time.perf_counter()
        request = WSGIRequest(environ)
        try:
            key = _key(request)
        except DisallowedHost:
            return self.application(environ, start_response)
        kept = self.kept.get(key)
        if kept is not None and kept[0] == cache.get(VERSION_KEY):
            stored = kept
        else:
            found = cache.get_many([VERSION_KEY, key])
            stored = found.get(key)
            if stored is None or stored[0] != found.get(VERSION_KEY):
                environ[LOOKED_UP] = (key, found)
                return self.application(environ, start_response)
            self.kept.put(key, stored)
        _, content, headers = stored
        request_id = incoming_request_id(request)
        token = current_request_id.set(request_id)
        try:
            start_response("200 OK", [*headers, (CACHE_HEADER, "hit"), (REQUEST_ID_HEADER, request_id)])
            log_access(request, 200, started)
        finally:
            current_request_id.reset(token)
        return [content]

    @staticmethod
    def _plain(environ: dict[str, Any]) -> bool:
        return (
            settings.PAGE_CACHE_ENABLED
            and environ.get("REQUEST_METHOD") == "GET"
            and not any(name in environ for name in CONDITIONAL)
            and "HTTP_AUTHORIZATION" not in environ
            # A cookie merely named like the session's sends the request the long way: never a wrong answer.
            and settings.SESSION_COOKIE_NAME not in environ.get("HTTP_COOKIE", "")
            and not isinstance(caches["default"], LocMemCache)
        )
