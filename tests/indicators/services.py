"""A real Redis and a real Celery worker (and beat), started by the tests as separate processes."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from opengov.celery import app

BASE_DIR = Path(settings.BASE_DIR)
REQUIRED = os.environ.get("OPENGOV_SERVICE_TESTS") == "required"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition: Callable[[], object], *, timeout: float, what: str, interval: float = 0.1) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"Timed out after {timeout} s waiting for {what}")


class RedisServer:
    """redis-server on a port of its own, which a test may stop and start again."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = directory
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._answers, timeout=10, what="redis-server to answer")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


def database_url() -> str:
    """The test database, as a URL the worker's settings read."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class CeleryProcess:
    """`celery worker` or `celery beat`, in its own process group so that it can be killed whole."""

    def __init__(self, kind: str, redis: RedisServer, directory: Path, env: dict[str, str]) -> None:
        self.kind = kind
        self.redis = redis
        self.directory = directory
        self.env = env
        self.process: subprocess.Popen | None = None
        self.log_path = directory / f"{kind}-{uuid.uuid4().hex[:8]}.log"

    def start(self, *, concurrency: int = 1, wait: bool = True) -> None:
        self.log_path = self.directory / f"{self.kind}-{uuid.uuid4().hex[:8]}.log"
        command = [sys.executable, "-m", "celery", "-A", "opengov", self.kind, "--loglevel", "INFO"]
        if self.kind == "worker":
            command += [
                "--pool",
                "prefork",
                "--concurrency",
                str(concurrency),
                "--hostname",
                f"test-{uuid.uuid4().hex[:8]}@%h",
                "--without-gossip",
                "--without-mingle",
            ]
        else:
            command += ["--schedule", str(self.directory / "beat-schedule")]
        environment = {
            **os.environ,
            "DEBUG": "true",
            "ENV_FILE": os.devnull,
            "DATABASE_URL": database_url(),
            "REDIS_URL": self.redis.url,
            "INDICATOR_SOURCES_ALLOWED_NETWORKS": "127.0.0.0/8",
            "CELERY_VISIBILITY_TIMEOUT": "3",
            "CELERY_UNACKED_RESTORE_INTERVAL": "1",
            "INDICATOR_RETRY_BASE_SECONDS": "0.2",
            "INDICATOR_SOURCE_CONNECT_TIMEOUT": "1",
            "INDICATOR_SOURCE_READ_TIMEOUT": "8",
            **self.env,
        }
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                command, cwd=BASE_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        if wait:
            marker = " ready." if self.kind == "worker" else "beat: Starting..."
            wait_for(lambda: marker in self.log(), timeout=60, what=f"celery {self.kind} to start:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL to the whole process group: the worker and its pool processes die at once, acking nothing."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    if not shutil.which("redis-server"):
        message = "redis-server is not installed (apt-get install redis-server)"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    with tempfile.TemporaryDirectory() as directory:
        server = RedisServer(Path(directory))
        server.start()
        yield server
        server.stop()


@pytest.fixture
def broker(redis_server: RedisServer) -> Iterator[RedisServer]:
    """This process queues tasks on the test's Redis, as the web process does with REDIS_URL set."""
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=redis_server.url, task_always_eager=False)
    # Producers are pooled per broker: forget the pool built for the previous one.
    app._pool = None
    app.amqp._producer_pool = None
    yield redis_server
    app.conf.update(saved)
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def celery_processes(redis_server: RedisServer, tmp_path: Path) -> Iterator[Callable[..., CeleryProcess]]:
    started: list[CeleryProcess] = []

    def start(kind: str = "worker", *, concurrency: int = 1, env: dict[str, str] | None = None) -> CeleryProcess:
        process = CeleryProcess(kind, redis_server, tmp_path, env or {})
        started.append(process)
        process.start(concurrency=concurrency)
        return process

    yield start
    for process in started:
        process.stop()
