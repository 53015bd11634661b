"""`make stack` end to end: the deployment's processes (gunicorn, a Celery worker, Celery beat) on a real
PostgreSQL and Redis, with production settings, answering pages and the API through gunicorn, refreshing an
indicator from a local source, and stopping cleanly."""

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql

from tests.indicators.services import REQUIRED, RedisServer, free_port, wait_for
from tests.indicators.source_server import Route, SourceServer

pytestmark = pytest.mark.services

ROOT = Path(__file__).resolve().parents[2]
POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}


def _missing(message: str) -> None:
    if REQUIRED:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def database() -> Iterator[str]:
    """A fresh database of its own on the machine's PostgreSQL, dropped afterwards."""
    name = f"opengov_stack_{uuid.uuid4().hex[:8]}"
    try:
        server = psycopg2.connect(dbname="postgres", **POSTGRES)
    except psycopg2.OperationalError as error:
        _missing(f"PostgreSQL does not answer on 127.0.0.1:5432: {error}")
    server.autocommit = True
    yield f"postgres://postgres@127.0.0.1:5432/{name}"
    with server.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    server.close()


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    if not shutil.which("redis-server"):
        _missing("redis-server is not installed (apt-get install redis-server)")
    with tempfile.TemporaryDirectory() as directory:
        server = RedisServer(Path(directory))
        server.start()
        yield server
        server.stop()


@pytest.fixture
def source() -> Iterator[SourceServer]:
    server = SourceServer()
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


class Stack:
    def __init__(self, environment: dict[str, str], log_path: Path) -> None:
        self.environment = environment
        self.log_path = log_path
        self.base = f"http://{environment['WEB_BIND']}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log_path.open("w") as log:
            # Its own process group, as a terminal's: the signal of Ctrl-C reaches make and bin/stack alike.
            self.process = subprocess.Popen(
                ["make", "--no-print-directory", "stack"],
                cwd=ROOT,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(lambda: "stack: ready" in self.log() or self.process.poll() is not None, timeout=300, what="ready")
        assert "stack: ready" in self.log(), self.log()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def pids(self) -> dict[str, int]:
        return {name: int(pid) for name, pid in re.findall(r"^stack: (\w+): .* \(pid (\d+)\)$", self.log(), re.M)}

    def manage(self, *arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(ROOT / ".venv" / "bin" / "python"), "manage.py", *arguments],
            cwd=ROOT,
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        """A request as the TLS proxy in front of gunicorn forwards it."""
        request = urllib.request.Request(self.base + path, headers={"X-Forwarded-Proto": "https"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def interrupt(self) -> int:
        """Ctrl-C: SIGINT to the process group, then wait for make to return."""
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout=90)

    def kill(self) -> None:
        """Whatever is left after a failed test: the group, and the processes bin/stack started in theirs."""
        for pid in [self.process.pid, *self.pids().values()]:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A process that has ended but whose parent has not yet collected it is not running.
    status = Path(f"/proc/{pid}/stat")
    return status.exists() and status.read_text().split(") ", 1)[1][:1] != "Z"


@pytest.fixture
def stack(database: str, redis: RedisServer, source: SourceServer, tmp_path: Path) -> Iterator[Stack]:
    if not (ROOT / ".venv" / "bin" / "gunicorn").exists():
        _missing("The virtualenv has no gunicorn: run `make install`.")
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PYTEST_"))} | {
        # Production settings, as docs/operations.md lists them; nothing read from a developer's .env.
        "ENV_FILE": os.devnull,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database,
        "REDIS_URL": redis.url,
        "STATIC_ROOT": str(tmp_path / "static"),
        "WEB_BIND": f"127.0.0.1:{free_port()}",
        "WEB_CONCURRENCY": "2",
        "CELERY_WORKER_CONCURRENCY": "1",
        "CELERY_BEAT_SCHEDULE_FILENAME": str(tmp_path / "beat-schedule"),
        # Beat looks for due indicators every second rather than every five minutes.
        "INDICATOR_SCHEDULE_SECONDS": "1",
        "INDICATOR_SOURCES_ALLOWED_NETWORKS": "127.0.0.0/8",
        # gunicorn sits behind a TLS proxy, which these requests play.
        "TRUSTED_PROXY_COUNT": "1",
        "LOG_FORMAT": "json",
    }
    running = Stack(environment, tmp_path / "stack.log")
    try:
        yield running
    finally:
        if running.process is not None:
            running.kill()


def test_make_stack_serves_refreshes_and_stops_cleanly(stack: Stack, source: SourceServer) -> None:
    stack.start()
    pids = stack.pids()
    assert set(pids) == {"web", "worker", "beat"}, stack.log()

    # The reference data, loaded while it runs, and an indicator read from a source (a local server here).
    loaded = stack.manage("load_reference_data")
    assert loaded.returncode == 0, loaded.stderr
    url = source.set("/datasets.json", Route(body=b'{"data": {"total": 1234}}'))
    code = (
        "from commitments.models import Commitment; from indicators.models import Indicator; "
        "c = Commitment.objects.get(plan__slug='2018-2020', number=4); "
        "i = Indicator.objects.create(commitment=c, name='Jeux de données publiés', source_format='json', "
        f"source_url='{url}', source_selector='data.total'); print(i.pk)"
    )
    created = stack.manage("shell", "--command", code)
    assert created.returncode == 0, created.stderr
    indicator = int(created.stdout.split()[-1])

    # Pages, the API, the workspace and the probes, through gunicorn.
    for path in ["/", "/plans/2018-2020/", "/plans/2018-2020/engagements/4/", "/forums/", "/en/", "/admin/login/"]:
        status, headers, body = stack.get(path)
        assert status == 200, (path, body[:500])
        assert "max-age=31536000" in headers["Strict-Transport-Security"], path
        assert "script-src 'self'" in headers["Content-Security-Policy"], path
    status, _headers, body = stack.get("/api/v1/commitments/?plan=2018-2020")
    assert status == 200
    assert json.loads(body)["count"] == 21
    status, _headers, body = stack.get("/readyz")
    assert (status, json.loads(body)["status"]) == (200, "ok")
    assert set(json.loads(body)["checks"]) == {"database", "migrations", "redis"}

    # Static files under hashed names, which browsers may keep for a year, from gunicorn itself (WhiteNoise).
    _status, _headers, home = stack.get("/")
    stylesheet = re.search(rb'href="(/static/css/site\.[0-9a-f]{12}\.css)"', home)
    assert stylesheet, "the page does not link the hashed style sheet"
    status, headers, _body = stack.get(stylesheet.group(1).decode())
    assert status == 200
    assert headers["Cache-Control"] == "max-age=315360000, public, immutable"

    # The indicator's answer, stored by the page cache before the value exists (the second request is a hit).
    before = [stack.get(f"/api/v1/indicators/{indicator}/") for _ in range(2)]
    assert [headers.get("X-Cache") for _status, headers, _body in before] == ["miss", "hit"]

    # Beat queues the due indicator and the worker reads the source: the value is on the API at once, though
    # the worker is another process (the data version is in Redis).
    def recorded() -> bool:
        _status, _headers, body = stack.get(f"/api/v1/indicators/{indicator}/")
        return json.loads(body).get("latest_value") is not None

    wait_for(recorded, timeout=120, what="the worker to record the value")
    _status, _headers, body = stack.get(f"/api/v1/indicators/{indicator}/")
    assert json.loads(body)["latest_value"] == 1234
    assert stack.get(f"/api/v1/indicators/{indicator}/")[1].get("X-Cache") == "hit"
    assert source.hits["/datasets.json"] >= 1

    # The container health checks pass against these processes.
    for process in ("web", "worker", "beat"):
        checked = stack.manage("healthcheck", process)
        assert checked.returncode == 0, (process, checked.stdout, checked.stderr)

    # The web process logs JSON lines, each request under its id.
    access = [
        json.loads(line.split("| ", 1)[1])
        for line in stack.log().splitlines()
        if line.startswith("web ") and '"opengov.request"' in line
    ]
    assert {entry["path"] for entry in access} >= {"/", "/api/v1/commitments/", "/readyz"}
    assert all(len(entry["request_id"]) == 32 for entry in access)

    # Ctrl-C stops the three, each within its grace period and of its own accord, and nothing is left.
    stack.interrupt()
    log = stack.log()
    for process in ("web", "worker", "beat"):
        assert f"stack: {process} stopped (exit status 0)." in log, log[-3000:]
        assert not _alive(pids[process]), process
    assert "killed" not in log
    assert "Traceback" not in log, log


def test_the_stack_starts_nothing_without_its_database(stack: Stack) -> None:
    stack.environment["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{free_port()}/opengov"
    result = subprocess.run(
        [sys.executable, "bin/stack"], cwd=ROOT, env=stack.environment, capture_output=True, text=True, timeout=300
    )

    assert result.returncode == 1
    assert "stack: PostgreSQL does not answer" in result.stdout, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    # Neither the migrations nor any of the three processes started.
    assert "release" not in result.stdout and "pid" not in result.stdout
