"""/healthz and /readyz, for load balancers, orchestrators and `manage.py healthcheck web`.

/healthz: the process answers (liveness: restart it when this fails).
/readyz: it can serve pages: the database answers, every migration is applied, Redis answers when
configured (readiness: send it no traffic while this fails).

Both are answered by a middleware placed before the host check and the HTTPS redirect: a probe asks
over plain HTTP, by the container's address or "localhost", which need not be among ALLOWED_HOSTS.
They say which check failed and nothing else: no address, version or error text (those go to the log).
"""

import logging
import time
from collections.abc import Callable

import redis
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger("opengov.health")

Check = Callable[[], dict]


def _database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"status": "ok"}


def _migrations() -> dict:
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        return {"status": "pending", "count": len(pending)}
    return {"status": "ok"}


def _redis() -> dict:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    finally:
        client.close()
    return {"status": "ok"}


def _run(name: str, check: Check) -> dict:
    started = time.perf_counter()
    try:
        result = check()
    except Exception as error:
        # The reason (host, port, driver's message) is for the operators' log, not for whoever asks; one line
        # without the traceback, since a probe asks every few seconds for as long as the outage lasts.
        logger.warning("Readiness check %s failed: %s: %s", name, type(error).__name__, error)
        result = {"status": "unavailable"}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def readiness() -> tuple[bool, dict]:
    checks: dict[str, Check] = {"database": _database, "migrations": _migrations}
    if settings.REDIS_URL:
        checks["redis"] = _redis
    results = {}
    for name, check in checks.items():
        # Without a database, whether migrations are applied cannot be known: one failure, said once.
        if name == "migrations" and results["database"]["status"] != "ok":
            results[name] = {"status": "unknown"}
            continue
        results[name] = _run(name, check)
    ready = all(result["status"] == "ok" for result in results.values())
    return ready, results


def _answer(body: dict, status: int) -> HttpResponse:
    response = JsonResponse(body, status=status)
    # A probe's answer is about this moment, on this process: no cache may keep it.
    response["Cache-Control"] = "no-store"
    return response


def healthz(request: HttpRequest) -> HttpResponse:
    return _answer({"status": "ok"}, 200)


def readyz(request: HttpRequest) -> HttpResponse:
    ready, checks = readiness()
    return _answer({"status": "ok" if ready else "unavailable", "checks": checks}, 200 if ready else 503)


PROBES = {"/healthz": healthz, "/readyz": readyz}


class HealthMiddleware:
    """Answers the probes before the host check and the HTTPS redirect (see the module's docstring).
    Placed after SecurityMiddleware, whose redirect exempts these paths, so that they get its headers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info)
        if probe is not None and request.method in ("GET", "HEAD"):
            return probe(request)
        return self.get_response(request)
