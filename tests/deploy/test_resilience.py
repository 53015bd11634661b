"""The deployed site rides out its backing services going away: PostgreSQL restarted under load, Redis stopped.

gunicorn serves with the production settings (DEBUG off, persistent database connections checked before use,
the resilient Redis cache) on a PostgreSQL and a Redis of the test's own, which the tests stop and start.
"""

import json
import re
import threading
import time
from dataclasses import dataclass
from email.message import Message

import pytest

from tests.deploy.conftest import ProductionSite
from tests.indicators.services import wait_for

pytestmark = pytest.mark.services

HOME = "/"
PLAN = "/plans/2018-2020/"
COMMITMENT = "/plans/2018-2020/engagements/4/"
CONTRIBUTION_FORM = "/plans/2018-2020/engagements/4/contribuer/"
API_LIST = "/api/v1/commitments/"
API_LISTS = ["/api/v1/plans/", "/api/v1/commitments/", "/api/v1/forums/"]
READY = "/readyz"
# What may never reach a visitor: the error's own text.
LEAKS = ["Traceback", "psycopg", "OperationalError", "redis.exceptions", "ConnectionError"]

# The API's per-client rate would refuse the load below; the restart test is not about throttling.
UNTHROTTLED = {"API_ANON_RATE": "1000000/minute"}
# The probes' tests wait at most this long for /readyz to answer 200 again once the service is back.
RECOVERY_SECONDS = 10.0
# How long the load goes on once PostgreSQL is back: every request then must succeed.
AFTER_SECONDS = 3.0


@dataclass
class Exchange:
    path: str
    started: float
    finished: float
    status: int  # 0: the connection itself failed (gunicorn did not answer)
    request_id: str
    body: str


class Load:
    """Client threads asking for the paths in turn, as fast as a short pause allows, every exchange recorded.

    The pause keeps each gunicorn worker well under max_requests (gunicorn.conf.py) for the test's length, so
    that a worker replaced during the test can only mean one that died."""

    def __init__(self, site: ProductionSite, paths: list[str], *, threads: int = 3, pause: float = 0.02) -> None:
        self.site = site
        self.paths = paths
        self.pause = pause
        self.exchanges: list[Exchange] = []
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(offset,)) for offset in range(threads)]

    def __enter__(self) -> "Load":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exception: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join()

    def _run(self, offset: int) -> None:
        turn = offset
        while not self.stopping.is_set():
            path = self.paths[turn % len(self.paths)]
            turn += 1
            started = time.monotonic()
            try:
                status, headers, body = self.site.get(path)
            except OSError as error:
                status, headers, body = 0, Message(), str(error)
            # list.append is atomic: the threads need no lock to record.
            self.exchanges.append(
                Exchange(path, started, time.monotonic(), status, headers.get("X-Request-ID", ""), body)
            )
            self.stopping.wait(self.pause)


def assert_clean_failure(exchange: Exchange) -> None:
    """A request the outage made fail: the site's error answer, with its reference, and nothing of the error."""
    assert exchange.status != 0, f"gunicorn did not answer {exchange.path}: {exchange.body}"
    assert exchange.request_id, f"{exchange.path} answered {exchange.status} without an X-Request-ID"
    for leak in LEAKS:
        assert leak not in exchange.body, f"{exchange.path} answered {exchange.status} showing {leak}"
    if exchange.path == READY:
        assert exchange.status == 503
        assert json.loads(exchange.body)["status"] == "unavailable"
    elif exchange.path.startswith("/api/"):
        assert exchange.status == 500
        assert json.loads(exchange.body)["error"]["code"] == "server_error"
    else:
        # The DSFR error page, which gives the visitor the request's id to quote.
        assert exchange.status == 500
        assert "Erreur inattendue" in exchange.body
        assert exchange.request_id in exchange.body


def test_postgresql_restart_under_load_is_recovered_without_restarting_the_site(private_postgres, production_site):
    private_postgres.create_database("opengov")
    site = production_site(database_url=private_postgres.url("opengov"), env=UNTHROTTLED)
    workers = site.worker_pids()
    paths = [COMMITMENT, API_LIST, READY]

    with Load(site, paths) as load:
        time.sleep(1)
        outage_started = time.monotonic()
        # Stopped for a second rather than restarted at once: a bare restart takes a tenth of a second here, and
        # requests might all miss it; a second is what a host's or a container's restart costs at the least.
        private_postgres.restart(downtime=1.0)
        back = time.monotonic()
        time.sleep(AFTER_SECONDS)

    exchanges = load.exchanges
    before = [e for e in exchanges if e.finished < outage_started]
    assert before, "no request was answered before the restart"
    assert {e.status for e in before} == {200}
    failures = [e for e in exchanges if e.status != 200]
    assert failures, "no request failed while PostgreSQL was stopped: the test did not see the outage"
    for exchange in failures:
        assert_clean_failure(exchange)

    # The outage costs the requests made during it, not the ones after.
    after = [e for e in exchanges if e.started > back]
    assert {e.path for e in after} == set(paths)
    late = [f"{e.path} {e.status} {e.started - back:.2f} s after" for e in after if e.status != 200]
    assert not late, "requests failed once PostgreSQL was back: " + ", ".join(late)

    # A quick restart between two requests: the workers' kept connections are cut while idle, and the next
    # request on each must notice before it uses its connection (CONN_HEALTH_CHECKS), not fail on it.
    private_postgres.restart()
    quick = [site.get(path) for path in paths * 10]
    assert [answer.status for answer in quick] == [200] * len(quick)

    # The same gunicorn, with the same workers: nothing was restarted to recover.
    assert site.process.poll() is None
    assert site.worker_pids() == workers

    # Each failed request is in the log under the id its answer gave: a page's error with its traceback, or
    # the readiness probe's one-line warning naming the check that failed.
    errors = {
        e["request_id"]
        for e in site.log_entries()
        if "request_id" in e
        and (e.get("level") == "ERROR" or (e.get("logger") == "opengov.health" and e.get("level") == "WARNING"))
    }
    unlogged = [f"{e.path} {e.status} {e.request_id}" for e in failures if e.request_id not in errors]
    assert not unlogged, "failed requests without an error line in the log: " + ", ".join(unlogged)

    recovered = max(e.finished for e in failures) - back
    print(
        f"\nPostgreSQL down {back - outage_started:.2f} s under load: {len(exchanges)} requests, "
        f"{len(failures)} failed ({', '.join(sorted({f'{e.path} {e.status}' for e in failures}))}); "
        f"the last failure ended {recovered:+.3f} s from PostgreSQL's return, then {len(after)} requests, all 200."
    )


def test_probes_while_postgresql_is_stopped(private_postgres, production_site):
    private_postgres.create_database("opengov")
    site = production_site(database_url=private_postgres.url("opengov"))
    workers = site.worker_pids()

    private_postgres.stop()
    health = site.get("/healthz")
    assert (health.status, health.json()) == (200, {"status": "ok"})
    ready = site.get(READY)
    assert ready.status == 503
    body = ready.json()
    assert body["status"] == "unavailable"
    # Which check failed, and nothing else: no address, user, driver or message.
    assert body["checks"]["database"].keys() == {"status", "ms"}
    assert body["checks"]["database"]["status"] == "unavailable"
    assert body["checks"]["migrations"] == {"status": "unknown"}
    for secret in ["postgres", "127.0.0.1", str(private_postgres.port), "opengov", *LEAKS]:
        assert secret not in ready.body

    private_postgres.start()
    wait_for(lambda: site.get(READY).status == 200, timeout=RECOVERY_SECONDS, what="/readyz to answer 200 again")
    assert site.get(COMMITMENT).status == 200
    assert site.process.poll() is None
    assert site.worker_pids() == workers


def test_redis_down_pages_and_api_still_answer(private_postgres, private_redis, production_site):
    private_postgres.create_database("opengov")
    rate = 3
    site = production_site(
        database_url=private_postgres.url("opengov"),
        redis_url=private_redis.url,
        env={"API_ANON_RATE": f"{rate}/minute"},
    )
    assert site.get(READY).json()["checks"]["redis"]["status"] == "ok"
    # With Redis up, both workers count a client's API requests there, and refuse the one past the rate. Each
    # asks for another page size: an answer the page cache already holds costs nothing and is not counted.
    assert [site.get(f"{API_LIST}?page_size={n}").status for n in range(10, 11 + rate)] == [200] * rate + [429]

    private_redis.stop()
    answers = [site.get(path) for path in [HOME, PLAN, COMMITMENT, CONTRIBUTION_FORM, *API_LISTS] for _ in range(3)]
    refused = [f"{answer.status} {answer.headers['X-Request-ID']}" for answer in answers if answer.status != 200]
    # The API too, past its rate: the throttle cannot read its counters, and lets requests through.
    assert not refused, f"with Redis down: {refused}\n{site.log()}"

    # A contribution is received: its rate limit is kept in Redis too, and lets it through.
    form = site.get(CONTRIBUTION_FORM)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.body).group(1)
    cookie = re.search(r"csrftoken=([^;]+)", " ".join(form.headers.get_all("Set-Cookie"))).group(1)
    sent = site.post(
        CONTRIBUTION_FORM,
        {"csrfmiddlewaretoken": token, "kind": "question", "body": "Où en est cet engagement ?"},
        headers={"Cookie": f"csrftoken={cookie}"},
    )
    assert sent.status == 302, sent.body
    assert sent.headers["Location"].startswith("/contributions/merci/")
    answers += [form, sent]

    ready = site.get(READY)
    assert ready.status == 503
    checks = ready.json()["checks"]
    assert checks["redis"].keys() == {"status", "ms"}
    assert checks["redis"]["status"] == "unavailable"
    assert checks["database"]["status"] == "ok"
    assert checks["migrations"]["status"] == "ok"
    assert site.get("/healthz").status == 200

    entries = site.log_entries()
    assert any(
        e["logger"] == "opengov.cache" and e["level"] == "WARNING" and e["message"].startswith("Cache unavailable")
        for e in entries
    )
    request_ids = {answer.headers["X-Request-ID"] for answer in answers}
    troubled = [
        e for e in entries if e.get("request_id") in request_ids and (e["level"] == "ERROR" or "exception" in e)
    ]
    assert not troubled, f"errors logged for requests that succeeded: {troubled}"
    # Nothing escaped the JSON log either.
    raw = [line for line in site.log().splitlines() if not line.startswith("{")]
    assert not [line for line in raw if "Traceback" in line], "\n".join(raw)

    private_redis.start()
    wait_for(lambda: site.get(READY).status == 200, timeout=RECOVERY_SECONDS, what="/readyz to answer 200 again")
    # Counting again, in the new (empty) Redis.
    assert [site.get(f"{API_LIST}?page_size={n}").status for n in range(20, 21 + rate)] == [200] * rate + [429]
