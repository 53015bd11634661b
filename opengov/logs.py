"""Structured logs: one JSON object per line, each carrying the id of the request (or task) it came from.

Every web request gets an id: the one a trusted front proxy sent in X-Request-ID, else a new one. It is
sent back in the response's X-Request-ID, shown on the error page, and written on every log line the
request causes, so that a visitor's "référence" leads to the lines that explain it. Celery tasks use
their task id the same way (opengov/celery.py).
"""

import datetime
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
# What a request id may be when it comes from outside: enough for the usual formats (UUIDs, a proxy's hex
# ids), nothing that could forge a line of a text log or carry markup.
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")

current_request_id: ContextVar[str] = ContextVar("request_id", default="")

# The attributes every LogRecord has: anything else on a record was passed in `extra` and is written too.
_RECORD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

access_log = logging.getLogger("opengov.request")


class RequestIdFilter(logging.Filter):
    """Puts the current request's (or task's) id on every record, for both formats."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = current_request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id, the `extra`
    fields, and the exception's traceback when there is one (in the log, never in a response)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", "") or current_request_id.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and key not in entry and key != "request_id":
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # default=str: a value that JSON cannot hold (a date, a model) is written as its text, not lost.
        return json.dumps(entry, ensure_ascii=False, default=str)


def incoming_request_id(request: HttpRequest) -> str:
    """The front proxy's id when it sent a usable one, else a new one."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    return given if _ACCEPTED_ID.fullmatch(given) else uuid.uuid4().hex


class RequestLogMiddleware:
    """First of all middleware: names the request, answers its id, and writes one access line when it ends,
    with the final status and the time the whole stack took."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = incoming_request_id(request)
        token = current_request_id.set(request_id)
        request.request_id = request_id
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            log_access(request, response.status_code, started)
            return response
        finally:
            current_request_id.reset(token)


def log_access(request: HttpRequest, status: int, started: float) -> None:
    """The access line of a request that began at `started` (time.perf_counter), under its request id."""
    access_log.info(
        "%s %s %s",
        request.method,
        request.path,
        status,
        extra={
            "method": request.method,
            "path": request.path,
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )


def logging_config(*, log_format: str, level: str) -> dict:
    """The LOGGING setting, also used by gunicorn.conf.py so that gunicorn's own lines look the same."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "opengov.logs.RequestIdFilter"}},
        "formatters": {
            "json": {"()": "opengov.logs.JsonFormatter"},
            "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": log_format, "filters": ["request_id"]},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Sign-ins, failures, lockouts, refusals, invitations, second factors: kept whatever LOG_LEVEL says.
            "opengov.security": {"level": "INFO"},
            # django-axes narrates every sign-in at INFO; its warnings (failures, lockouts) are enough beside ours.
            "axes": {"level": "WARNING"},
            # Django logs every 4xx/5xx here, which the access line already says; its errors (5xx, with the
            # traceback) still pass.
            "django.request": {"level": "ERROR"},
            # gunicorn's own lines, through the same handler (gunicorn.conf.py); no propagation, no duplicate.
            "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }
