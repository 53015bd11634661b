"""The site as it is deployed, started by the tests: gunicorn with DEBUG off, on a PostgreSQL and a Redis of the
test's own, which a test may stop, start and restart while the site serves.

None of them use pytest-django's test database: each site runs the release step (migrations) on a database of
its own, as a deployment does.
"""

import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from email.message import Message
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

import psycopg2
import pytest
from psycopg2 import sql

from tests.indicators.services import REQUIRED, RedisServer, free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
# gunicorn is the one installed beside the interpreter running the tests (the project's virtualenv).
VENV_BIN = Path(sys.executable).parent
# Debian installs the server's programs here, one folder per major version, outside PATH.
POSTGRESQL_VERSIONS = Path("/usr/lib/postgresql")


def missing_tool(message: str) -> NoReturn:
    """Stop a test whose servers cannot be started: an error in CI (OPENGOV_SERVICE_TESTS=required), else a skip."""
    if REQUIRED:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


# --- PostgreSQL --------------------------------------------------------------------------------------------


def postgresql_programs() -> Path | None:
    """The folder of initdb and pg_ctl: the newest version Debian installed, else wherever PATH finds them."""
    versions = [path.parent for path in POSTGRESQL_VERSIONS.glob("*/bin/initdb") if path.parts[-3].isdigit()]
    if versions:
        return max(versions, key=lambda folder: int(folder.parent.name))
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_postgres_user() -> list[str]:
    """PostgreSQL refuses to run as root: when the tests do, its programs run as the postgres user."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own on a free port, trusting local connections, which the test may stop
    and start without disturbing the machine's own (other tests use it)."""

    def __init__(self, directory: Path, programs: Path) -> None:
        self.directory = directory
        self.programs = programs
        self.data = directory / "data"
        self.log_path = directory / "postgresql.log"
        self.port = free_port()

    def _run(self, program: str, *arguments: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [*_as_postgres_user(), str(self.programs / program), *arguments],
            # The postgres user may not be allowed into the tests' working directory.
            cwd=self.directory,
            capture_output=True,
            text=True,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{program} {' '.join(arguments)} failed (exit status {result.returncode}):\n"
                f"{result.stdout}{result.stderr}\n{self.log()}"
            )
        return result

    def initialize(self) -> None:
        self._run(
            "initdb",
            *("--pgdata", str(self.data), "--auth", "trust", "--username", "postgres"),
            *("--encoding", "UTF8", "--locale", "C.UTF-8", "--no-sync"),
        )
        settings = [
            f"port = {self.port}",
            "listen_addresses = '127.0.0.1'",
            f"unix_socket_directories = '{self.directory}'",
            # What these tests measure is the site's behaviour, not the cluster's durability: a faster start.
            "fsync = off",
            "full_page_writes = off",
        ]
        with (self.data / "postgresql.conf").open("a") as configuration:
            configuration.write("\n".join(settings) + "\n")

    def start(self) -> None:
        self._run("pg_ctl", "start", "--pgdata", str(self.data), "--log", str(self.log_path), "--wait")

    def stop(self, *, mode: str = "fast") -> None:
        """fast: the clients' connections are cut, as when the database server is restarted by its operator."""
        self._run("pg_ctl", "stop", "--pgdata", str(self.data), "--mode", mode, "--wait")

    def restart(self, *, downtime: float = 0.0) -> None:
        """pg_ctl restart; with a downtime, stopped and started again that many seconds later."""
        if not downtime:
            self._run(
                "pg_ctl", "restart", "--pgdata", str(self.data), "--log", str(self.log_path), "--mode", "fast", "--wait"
            )
            return
        self.stop()
        time.sleep(downtime)
        self.start()

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> None:
        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres")
        connection.autocommit = True  # CREATE DATABASE cannot run in a transaction
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        finally:
            connection.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "stop", "--pgdata", str(self.data), "--mode", "immediate", "--wait", check=False)
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    programs = postgresql_programs()
    if programs is None:
        missing_tool("PostgreSQL's server is not installed (apt-get install postgresql)")
    if os.geteuid() == 0:
        if not shutil.which("runuser"):
            missing_tool("runuser is missing, needed to run PostgreSQL as its own user (apt-get install util-linux)")
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            missing_tool("There is no postgres user to run PostgreSQL as (apt-get install postgresql creates it)")
    # Not under pytest's tmp_path: its parent folders are closed to any user but the one running the tests.
    directory = Path(tempfile.mkdtemp(prefix="opengov-postgres-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    server = PrivatePostgres(directory, programs)
    try:
        server.initialize()
        server.start()
        yield server
    finally:
        server.destroy()


# --- Redis -------------------------------------------------------------------------------------------------


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """redis-server on a port of its own, which the test may stop and start again (on the same port)."""
    if not shutil.which("redis-server"):
        missing_tool("redis-server is not installed (apt-get install redis-server)")
    directory = tmp_path / "redis"
    directory.mkdir()
    server = RedisServer(directory)
    server.start()
    yield server
    server.stop()


# --- The site ----------------------------------------------------------------------------------------------


def production_environment(
    *, static_root: Path, database_url: str = "", redis_url: str = "", extra: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment of a deployment: only what is set here, none of the developer's (.env, DEBUG=true)."""
    environment = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": os.environ.get("HOME", str(ROOT)),
        "LANG": "C.UTF-8",
        # Log lines reach the file as they are written, for the tests that read them while the site runs.
        "PYTHONUNBUFFERED": "1",
        "ENV_FILE": os.devnull,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        # The tests speak plain HTTP to gunicorn; in production a proxy in front terminates TLS.
        "SECURE_SSL_REDIRECT": "false",
        "STATIC_ROOT": str(static_root),
        "LOG_FORMAT": "json",
        "WEB_CONCURRENCY": "2",
    }
    if database_url:
        environment["DATABASE_URL"] = database_url
    if redis_url:
        environment["REDIS_URL"] = redis_url
    return {**environment, **(extra or {})}


def manage(environment: dict[str, str], *arguments: str) -> str:
    """Run a manage.py command in the given environment; its output, or a failure that shows it."""
    result = subprocess.run(
        [sys.executable, "manage.py", *arguments], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise AssertionError(
            f"manage.py {' '.join(arguments)} failed (exit status {result.returncode}):\n{result.stdout}{result.stderr}"
        )
    return result.stdout


@pytest.fixture(scope="session")
def static_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """collectstatic, once for every site of the session: it takes seconds, and gives the same files each time."""
    root = tmp_path_factory.mktemp("static")
    manage(production_environment(static_root=root), "collectstatic", "--noinput", "--verbosity", "0")
    return root


class Answer(NamedTuple):
    status: int
    headers: Message
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


# No proxy from the environment between the tests and the site; a redirect is an answer to look at, not to follow.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


class ProductionSite:
    """`gunicorn opengov.wsgi:application` as the Procfile runs it, in its own process group, logging to a file."""

    def __init__(self, directory: Path, environment: dict[str, str]) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.environment = {**environment, "WEB_BIND": f"127.0.0.1:{self.port}"}
        self.log_path = directory / "gunicorn.log"
        self.process: subprocess.Popen | None = None

    def manage(self, *arguments: str) -> str:
        return manage(self.environment, *arguments)

    def start(self) -> None:
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                [str(VENV_BIN / "gunicorn"), "opengov.wsgi:application"],
                cwd=ROOT,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(self._answers, timeout=60, what=f"gunicorn to answer /healthz on {self.base_url}")
        # The first worker forked from the preloaded master answers before the others exist: a test that
        # compares the workers before and after must start from all of them.
        workers = int(self.environment["WEB_CONCURRENCY"])
        wait_for(lambda: len(self.worker_pids()) == workers, timeout=30, what=f"{workers} gunicorn workers")

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"gunicorn stopped (exit status {self.process.returncode}):\n{self.log()}")
        try:
            return self.get("/healthz").status == 200
        except OSError:
            return False

    def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        """The site's answer, whatever its status; only a connection that fails raises (OSError)."""
        return self._send(urllib.request.Request(self.base_url + path, headers=headers or {}))

    def post(self, path: str, data: dict[str, str], headers: dict[str, str] | None = None) -> Answer:
        """A form sent as a browser sends it (application/x-www-form-urlencoded)."""
        body = urllib.parse.urlencode(data).encode()
        return self._send(urllib.request.Request(self.base_url + path, data=body, headers=headers or {}))

    def _send(self, request: urllib.request.Request) -> Answer:
        try:
            with _opener.open(request, timeout=30) as response:
                return Answer(response.status, response.headers, response.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as error:
            with error:
                return Answer(error.code, error.headers, error.read().decode("utf-8", "replace"))

    def worker_pids(self) -> set[int]:
        """gunicorn's workers: the master's children (Linux)."""
        pid = self.process.pid
        return {int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_entries(self) -> list[dict]:
        """The log's JSON lines; anything else (a crash's raw output) is in log() alone."""
        entries = []
        for line in self.log().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                entries.append(entry)
        return entries

    def stop(self) -> None:
        """SIGTERM to the group (gunicorn's graceful stop), SIGKILL if it outlasts gunicorn's own grace period."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def production_site(tmp_path: Path, static_root: Path) -> Iterator[Callable[..., ProductionSite]]:
    """Starts a site on the given database (and Redis): the release step (migrate), the reference data unless
    told not to, then gunicorn, answering /healthz. `env` adds or overrides variables. Stopped at the end."""
    sites: list[ProductionSite] = []

    def start(
        *,
        database_url: str,
        redis_url: str = "",
        reference_data: bool = True,
        env: dict[str, str] | None = None,
    ) -> ProductionSite:
        directory = tmp_path / f"site-{len(sites) + 1}"
        directory.mkdir()
        environment = production_environment(
            static_root=static_root, database_url=database_url, redis_url=redis_url, extra=env
        )
        site = ProductionSite(directory, environment)
        sites.append(site)
        site.manage("migrate", "--noinput")
        if reference_data:
            site.manage("load_reference_data")
        site.start()
        return site

    yield start
    for site in sites:
        site.stop()
