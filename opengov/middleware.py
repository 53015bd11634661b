import datetime
import os
import weakref
from collections.abc import Callable
from functools import cache

from django.apps import apps
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import http_date

CODE_SUFFIXES = {".py", ".html", ".css", ".js", ".mo"}
SKIPPED_FOLDERS = {".venv", "node_modules", "var", "staticfiles", ".git", "tests", "bench", "docs"}


def _code_changed_at() -> datetime.datetime:
    """When the code that renders pages last changed (newest file), the same in every worker process.

    Pages change with the code too, and a deployment must not leave browsers on a page they
    revalidate by date alone.
    """
    newest = 0.0
    for folder, subfolders, files in os.walk(settings.BASE_DIR):
        subfolders[:] = [name for name in subfolders if name not in SKIPPED_FOLDERS]
        for name in files:
            if os.path.splitext(name)[1] in CODE_SUFFIXES:
                newest = max(newest, os.stat(os.path.join(folder, name)).st_mtime)
    return datetime.datetime.fromtimestamp(newest, tz=datetime.UTC)


CODE_CHANGED_AT = _code_changed_at()


@cache
def _history_tables() -> list[str]:
    """The tables of django-simple-history's records: every change of every tracked model lands there."""
    return [
        model._meta.db_table
        for model in apps.get_models()
        if any(field.name == "history_date" for field in model._meta.get_fields())
    ]


# Every page and API answer that is written asks for the data version (Last-Modified, the API's ETag), and so does
# every request with the local-memory cache (the page cache's key; with Redis, a hit reads no table). On PostgreSQL
# its union of fourteen tables took 1.7 ms to plan and 0.2 ms to run: it is prepared once per connection under this
# name, and a request pays only the run.
DATA_VERSION_STATEMENT = "opengov_data_version"


def _prepares_data_version() -> bool:
    """Only where connections outlive requests (CONN_MAX_AGE not 0): otherwise each request would prepare it again,
    and behind a pooler in transaction mode (which docs/operations.md pairs with CONN_MAX_AGE=0) a statement prepared
    on one server connection is missing on the next."""
    return connection.vendor == "postgresql" and connection.settings_dict.get("CONN_MAX_AGE") != 0


@cache
def _data_version_sql() -> str:
    tables = _history_tables()
    # Table names come from the models, never from a request.
    union = " UNION ALL ".join(f"SELECT MAX(history_date) AS changed FROM {table}" for table in tables)
    # Erasing a contributor's data rewrites rows without a history row (that would keep the data): its own date.
    contributions = apps.get_model("forums", "Contribution")._meta.db_table
    union += f" UNION ALL SELECT MAX(erased_at) AS changed FROM {contributions}"
    return f"SELECT MAX(changed) FROM ({union}) AS latest"


def _prepare_data_version() -> None:
    """Prepares the data version's query on this thread's connection, unless it was already: a statement lives as
    long as its connection (a ROLLBACK keeps it), and a new connection (CONN_MAX_AGE, a lost one) needs its own.
    Through the driver's own cursor: preparing is not one of a request's queries, which the tests count."""
    raw = connection.connection
    prepared_on = getattr(connection, "_opengov_data_version_on", None)
    if prepared_on is not None and prepared_on() is raw:
        return
    with raw.cursor() as cursor:
        # Asked first rather than failing: a failed PREPARE would abort the transaction the request is in.
        cursor.execute("SELECT 1 FROM pg_prepared_statements WHERE name = %s", [DATA_VERSION_STATEMENT])
        if cursor.fetchone() is None:
            cursor.execute(f"PREPARE {DATA_VERSION_STATEMENT} AS {_data_version_sql()}")
    connection._opengov_data_version_on = weakref.ref(raw)


def last_data_change() -> datetime.datetime:
    """When public data last changed: the newest history row of any model, in one query."""
    with connection.cursor() as cursor:
        if _prepares_data_version():
            _prepare_data_version()
            cursor.execute(f"EXECUTE {DATA_VERSION_STATEMENT}")
        else:
            cursor.execute(_data_version_sql())
        (changed,) = cursor.fetchone()
    # Pages also say what follows from today's date ("late", "awaiting an answer for 12 days"): they
    # change at midnight too, so no cache revalidates yesterday's copy past it.
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    if changed is None:
        return max(CODE_CHANGED_AT, midnight)
    if isinstance(changed, str):  # SQLite returns the text it stores
        changed = datetime.datetime.fromisoformat(changed)
    if timezone.is_naive(changed):
        changed = timezone.make_aware(changed, datetime.UTC)
    return max(changed, CODE_CHANGED_AT, midnight)


class PublicCacheMiddleware:
    """Lets browsers and shared caches keep the pages everyone sees alike, and revalidate them.

    Only a successful GET that sets no cookie and has no Cache-Control of its own qualifies: the
    admin, forms and anything personal set a cookie or mark themselves private or never-cache.
    Such a page gets Cache-Control and a Last-Modified (the last change to the data or the code);
    ConditionalGetMiddleware, before it, adds the ETag and answers 304 to a matching request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.method in ("GET", "HEAD")
            and response.status_code == 200
            and not response.cookies
            and not response.has_header("Cache-Control")
            and "Cookie" not in response.get("Vary", "")
        ):
            patch_cache_control(response, public=True, max_age=settings.PUBLIC_CACHE_SECONDS)
            if not response.has_header("Last-Modified"):
                response["Last-Modified"] = http_date(last_data_change().timestamp())
        return response


class HeadResponseMiddleware:
    """Sends a HEAD response without its body, as HTTP requires: Django renders it as for GET, and gunicorn
    would drop the body itself, with a warning in the log for every load balancer's HEAD."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method == "HEAD":
            return without_body(response)
        return response


def without_body(response: HttpResponse) -> HttpResponse:
    """The answer to a HEAD: the GET's headers, without its body."""
    if not response.streaming:
        # Content-Length still says what a GET would carry.
        if not response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        response.content = b""
    return response
