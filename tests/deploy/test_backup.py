"""bin/backup and bin/restore: a backup restored into a fresh database answers the API exactly as the original.

On the machine's PostgreSQL (127.0.0.1:5432), in two databases of the test's own, dropped at the end.
"""

import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
import pytest
from psycopg2 import sql

from opengov.api import build_router
from tests.deploy.conftest import ROOT, Answer, ProductionSite, manage, missing_tool, production_environment

pytestmark = pytest.mark.services

SERVER = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
# Both sites asked by the same name, so that the links in their answers (the next page) read the same.
SAME_HOST = {"Host": "127.0.0.1"}
# The comparison asks for every page of every list, twice per site: more than the API's default rate allows.
UNTHROTTLED = {"API_ANON_RATE": "1000000/minute"}

# Rows beyond the reference data, in the tables it leaves empty: an indicator with a value, a published
# question. Through the services, as the workspace makes them (the indicator through its factory: the admin
# creates it, there is no service).
EXTRA_DATA = """
import datetime
from decimal import Decimal

from commitments.models import Commitment
from forums.services import publish_contribution, submit_contribution
from indicators.services import record_value
from tests.factories import IndicatorFactory, UserFactory

commitment = Commitment.objects.get(plan__slug="2018-2020", number=4)
coordinator = UserFactory(is_staff=True, is_superuser=True)
indicator = IndicatorFactory(commitment=commitment, name="Jeux de données ouverts")
record_value(indicator=indicator, date=datetime.date(2020, 6, 30), value=Decimal("42.5"), by=coordinator)
question = submit_contribution(kind="question", body="{body}", commitment=commitment, display_name="Camille")
publish_contribution(contribution=question, by=coordinator)
"""


@pytest.fixture
def fresh_database() -> Iterator[Callable[[], str]]:
    """Creates empty databases with unique names on the machine's PostgreSQL; each URL is returned."""
    try:
        connection = psycopg2.connect(dbname="postgres", connect_timeout=5, **SERVER)
    except psycopg2.OperationalError as error:
        missing_tool(f"PostgreSQL does not answer on 127.0.0.1:5432 as postgres (apt-get install postgresql): {error}")
    connection.autocommit = True  # CREATE and DROP DATABASE cannot run in a transaction
    created: list[str] = []

    def create() -> str:
        name = f"opengov_backup_{uuid.uuid4().hex[:12]}"
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        created.append(name)
        return f"postgres://{SERVER['user']}@{SERVER['host']}:{SERVER['port']}/{name}"

    yield create
    with connection.cursor() as cursor:
        for name in created:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    connection.close()


@pytest.fixture
def postgresql_client() -> None:
    for program in ("pg_dump", "pg_restore", "psql"):
        if not shutil.which(program):
            missing_tool(f"{program} is not installed (apt-get install postgresql-client)")


def run(script: str, *arguments: str, database_url: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """bin/backup or bin/restore, with DATABASE_URL as an operator sets it and nothing else of the tests'."""
    return subprocess.run(
        [str(ROOT / "bin" / script), *arguments],
        cwd=cwd,
        env={"PATH": os.environ.get("PATH", os.defpath), "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
    )


def add_rows(site: ProductionSite, *, body: str) -> None:
    site.manage("shell", "--command", EXTRA_DATA.replace("{body}", body))


def api_lists(site: ProductionSite) -> dict[str, Answer]:
    """Every page of every list the API's router has, by path."""
    pages = {}
    for prefix, _viewset, _basename in build_router().registry:
        path = f"/api/v1/{prefix}/"
        while path:
            answer = site.get(path, SAME_HOST)
            assert answer.status == 200, f"{path}: {answer.status} {answer.body}"
            pages[path] = answer
            following = answer.json()["next"]
            path = urlsplit(following)._replace(scheme="", netloc="").geturl() if following else ""
    return pages


def assert_same_answers(original: ProductionSite, restored: ProductionSite) -> dict[str, Answer]:
    expected = api_lists(original)
    answers = api_lists(restored)
    assert answers.keys() == expected.keys()
    for path, answer in answers.items():
        assert answer.body == expected[path].body, path
        # The same validators too: a client's cached copy is still current against the restored site.
        for header in ("ETag", "Last-Modified"):
            assert answer.headers[header] == expected[path].headers[header], f"{path}: {header}"
    return answers


def plain_dump(database_url: str, *options: str) -> str:
    """The database as SQL (pg_dump's options choose what of it): two dumps are equal when nothing changed."""
    dump = subprocess.run(
        ["pg_dump", "--format=plain", *options, "--dbname", database_url], check=True, capture_output=True, text=True
    ).stdout
    # Since 15.14, pg_dump frames its script with \restrict and \unrestrict and a random key, new on each dump.
    return "\n".join(line for line in dump.splitlines() if not line.startswith(("\\restrict ", "\\unrestrict ")))


def test_backup_restored_into_a_fresh_database_answers_the_same(
    postgresql_client, fresh_database, production_site, static_root, tmp_path
):
    original_url, restored_url = fresh_database(), fresh_database()
    original = production_site(database_url=original_url, env=UNTHROTTLED)
    add_rows(original, body="Où en est cet engagement ?")
    backup = tmp_path / "opengov.dump"

    backed_up = run("backup", str(backup), database_url=original_url)
    assert backed_up.returncode == 0, backed_up.stderr
    assert backup.stat().st_size > 0
    assert not backup.with_name("opengov.dump.partial").exists()

    restored_run = run("restore", str(backup), database_url=restored_url)
    assert restored_run.returncode == 0, restored_run.stderr
    assert "manage.py migrate" in restored_run.stdout
    # The backup carries the record of applied migrations with the tables they made.
    manage(production_environment(static_root=static_root, database_url=restored_url), "migrate", "--check")
    # Every row of every table, history included, which the API's lists do not all show. (Not the schema's
    # text: PostgreSQL writes a restored CHECK constraint's expression in another, equivalent form.)
    assert plain_dump(restored_url, "--data-only") == plain_dump(original_url, "--data-only")
    restored = production_site(database_url=restored_url, reference_data=False, env=UNTHROTTLED)

    answers = assert_same_answers(original, restored)
    # What was compared: the reference data, on more than one page, and the rows added to it.
    assert answers["/api/v1/administrations/?page=2"].json()["results"]
    for path in ("/api/v1/indicators/", "/api/v1/indicator-values/", "/api/v1/contributions/"):
        assert len(answers[path].json()["results"]) == 1, path


def test_restore_refuses_a_database_that_is_not_empty(postgresql_client, fresh_database, static_root, tmp_path):
    database_url = fresh_database()
    environment = production_environment(static_root=static_root, database_url=database_url)
    manage(environment, "migrate", "--noinput")
    manage(environment, "load_reference_data")
    backup = tmp_path / "opengov.dump"
    assert run("backup", str(backup), database_url=database_url).returncode == 0
    before = plain_dump(database_url)

    refused = run("restore", str(backup), database_url=database_url)

    assert refused.returncode == 1
    assert "not empty" in refused.stderr
    assert "--clean" in refused.stderr
    assert refused.stdout == ""
    assert plain_dump(database_url) == before


def test_restore_clean_replaces_what_the_database_has(postgresql_client, fresh_database, production_site, tmp_path):
    original_url, restored_url = fresh_database(), fresh_database()
    original = production_site(database_url=original_url, env=UNTHROTTLED)
    backup = tmp_path / "opengov.dump"
    assert run("backup", str(backup), database_url=original_url).returncode == 0
    # A database already in use, whose data has moved on from the backup's.
    restored = production_site(database_url=restored_url, env=UNTHROTTLED)
    add_rows(restored, body="Une question arrivée après la sauvegarde ?")
    assert restored.get("/api/v1/contributions/", SAME_HOST).json()["count"] == 1

    cleaned = run("restore", "--clean", str(backup), database_url=restored_url)

    assert cleaned.returncode == 0, cleaned.stderr
    # While its site runs: the next requests see the backup's data, and only it.
    answers = assert_same_answers(original, restored)
    assert answers["/api/v1/contributions/"].json()["count"] == 0


@pytest.mark.parametrize(
    ("script", "arguments", "database_url", "message"),
    [
        ("backup", ["out.dump"], "", "DATABASE_URL is not set"),
        ("restore", ["in.dump"], "", "DATABASE_URL is not set"),
        ("backup", ["out.dump"], "sqlite:///var/db.sqlite3", "not a PostgreSQL URL"),
        ("restore", ["in.dump"], "sqlite:///var/db.sqlite3", "not a PostgreSQL URL"),
        ("restore", ["missing.dump"], "postgres://postgres@127.0.0.1:5432/postgres", "not a readable file"),
        ("backup", [], "postgres://postgres@127.0.0.1:5432/postgres", "usage:"),
        ("restore", ["--force", "in.dump"], "postgres://postgres@127.0.0.1:5432/postgres", "usage:"),
    ],
)
def test_scripts_refuse_what_they_cannot_do(script, arguments, database_url, message, tmp_path):
    refused = run(script, *arguments, database_url=database_url, cwd=tmp_path)
    assert refused.returncode != 0
    assert message in refused.stderr
    assert list(tmp_path.iterdir()) == []
