"""The whole dataset in one archive, built outside requests with bounded memory.

Each resource is read in chunks and serialized by the API's own serializers, so the archive says what
the API says; the members are written as they come into a zip on disk, under a temporary name renamed
into place when complete. One build at a time (a lock file beside the archive). The archive records,
in its zip comment, the data version it was extracted at (`last_data_change()`), so that it is known
to be stale when the data has changed since.
"""

import csv
import datetime
import fcntl
import io
import json
import logging
import os
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone, translation
from kombu.exceptions import OperationalError
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.utils.encoders import JSONEncoder

from commitments.api import AdministrationViewSet, AxisViewSet, CommitmentViewSet, MilestoneViewSet, PlanViewSet
from forums.api import ContributionViewSet, ForumViewSet
from indicators.api import IndicatorValueViewSet, IndicatorViewSet
from opengov.api import PublicViewSet
from opengov.api_output import CSVRenderer, total_order
from opengov.middleware import last_data_change

logger = logging.getLogger(__name__)

ARCHIVE_NAME = "opengov-donnees.zip"
LOCK_NAME = ".build.lock"
TEMPORARY_PREFIX = ".opengov-donnees-"
# Rows serialized at once: memory grows with this, not with the data (about 10 MB for indicator values).
CHUNK_SIZE = 2000
COPY_BLOCK_BYTES = 64 * 1024
# A stale archive asks for one rebuild per this many seconds, however many downloads see it stale.
QUEUE_INTERVAL_SECONDS = 60
QUEUED_KEY = "opengov:export-queued"

RESOURCES = [
    ("plans", PlanViewSet),
    ("axes", AxisViewSet),
    ("administrations", AdministrationViewSet),
    ("commitments", CommitmentViewSet),
    ("milestones", MilestoneViewSet),
    ("indicators", IndicatorViewSet),
    ("indicator-values", IndicatorValueViewSet),
    ("forums", ForumViewSet),
    ("contributions", ContributionViewSet),
]

README_HEAD = """# opengov — jeu de données complet / full dataset

Licence : Licence Ouverte 2.0 (Etalab), https://www.etalab.gouv.fr/licence-ouverte-open-licence/
Réutilisation libre, en citant la source. / Free reuse, citing the source.

Extrait le / extracted on: {extracted}

Chaque ressource est fournie en JSON (comme l'API /api/v1/) et en CSV (UTF-8, une ligne par objet,
les valeurs imbriquées aplaties en colonnes pointées, les listes séparées par « ; »).
Each resource comes as JSON (as the API /api/v1/ gives it) and as CSV (UTF-8, one row per object,
nested values flattened into dotted columns, lists separated by "; ").

Avancement / progress: weighted share of milestones done, else mean of the public indicators
from baseline to target; null means "not reported", never zero.
"""


@dataclass(frozen=True)
class Archive:
    """A complete archive on disk and what it was extracted from."""

    path: Path
    data_changed: datetime.datetime  # the data version it holds: last_data_change() when extraction began
    extracted: datetime.datetime
    size: int

    def is_stale(self) -> bool:
        return last_data_change() > self.data_changed


def archive_path() -> Path:
    return Path(settings.EXPORTS_DIR) / ARCHIVE_NAME


def open_archive() -> tuple[IO[bytes], Archive] | None:
    """The latest archive, opened (the caller closes it), or None when there is none yet.

    The open file stays the same archive even if a build renames a new one into place meanwhile."""
    path = archive_path()
    try:
        file = path.open("rb")
    except FileNotFoundError:
        return None
    try:
        with zipfile.ZipFile(file) as archive:
            recorded = json.loads(archive.comment)
        file.seek(0)
        return file, Archive(
            path=path,
            data_changed=datetime.datetime.fromisoformat(recorded["data_changed"]),
            extracted=datetime.datetime.fromisoformat(recorded["extracted"]),
            size=os.fstat(file.fileno()).st_size,
        )
    except (zipfile.BadZipFile, ValueError, KeyError):
        # Not written by build_archive (renames are atomic): treat it as absent, the next build replaces it.
        logger.warning("The archive %s is unreadable; it will be rebuilt.", path)
        file.close()
        return None


def queue_build() -> None:
    """Ask for a rebuild (a Celery task, run at once without a broker), at most once a minute."""
    from opengov import tasks  # the tasks module imports this one

    if not cache.add(QUEUED_KEY, True, QUEUE_INTERVAL_SECONDS):
        return
    try:
        tasks.build_export.delay()
    except OperationalError as error:
        cache.delete(QUEUED_KEY)
        logger.warning("The archive's rebuild was not queued (%s); beat will queue it.", error)


@contextmanager
def _build_lock(directory: Path) -> Iterator[bool]:
    """Whether this process holds the build lock; released when the process ends, even killed."""
    with (directory / LOCK_NAME).open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def build_archive(*, force: bool = False) -> Archive | None:
    """Build the archive unless it is up to date (or `force`); None when another build is running."""
    directory = Path(settings.EXPORTS_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    with _build_lock(directory) as locked:
        if not locked:
            return None
        # Left by a build that was killed: nobody else writes while the lock is held.
        for leftover in directory.glob(f"{TEMPORARY_PREFIX}*"):
            leftover.unlink(missing_ok=True)
        current = open_archive()
        if current is not None:
            current[0].close()
            if not force and not current[1].is_stale():
                return current[1]
        return _build(directory)


def _build(directory: Path) -> Archive:
    with tempfile.NamedTemporaryFile(dir=directory, prefix=TEMPORARY_PREFIX, suffix=".zip", delete=False) as file:
        try:
            with _snapshot():
                data_changed = last_data_change()
                extracted = timezone.now().astimezone(datetime.UTC).replace(microsecond=0)
                recorded = {"data_changed": data_changed.isoformat(), "extracted": extracted.isoformat()}
                with translation.override(settings.LANGUAGE_CODE):
                    _write_archive(file, directory, extracted, comment=json.dumps(recorded).encode())
            file.flush()
            os.fsync(file.fileno())
            # Public data, read by the web processes, which may run as another user than the workers.
            os.chmod(file.name, 0o644)
        except BaseException:
            Path(file.name).unlink(missing_ok=True)
            raise
    os.replace(file.name, archive_path())
    return Archive(archive_path(), data_changed, extracted, archive_path().stat().st_size)


@contextmanager
def _snapshot() -> Iterator[None]:
    """Every resource read from one state of the data, although the reads take a while at scale."""
    if connection.in_atomic_block or connection.vendor != "postgresql":
        yield  # already in a transaction (the tests), or SQLite, which has a single writer anyway
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


class _SiteRequest(HttpRequest):
    """A request to the public address: the serializers build absolute links from it, as in the API."""

    def __init__(self) -> None:
        super().__init__()
        address = urlsplit(settings.SITE_URL)
        self._site_scheme, self._site_host = address.scheme or "http", address.netloc
        self.method = "GET"

    def get_host(self) -> str:
        return self._site_host

    def _get_scheme(self) -> str:
        return self._site_scheme


def listed_rows(view: PublicViewSet) -> QuerySet:
    """A list's rows in the API's order, the key breaking its ties as in the API's pages: two archives of the
    same data list their rows alike."""
    return view.get_queryset().order_by(*total_order(view.ordering))


def _write_archive(file: IO[bytes], directory: Path, extracted: datetime.datetime, *, comment: bytes) -> None:
    api_request = Request(_SiteRequest())  # anonymous: the archive holds what everyone may read
    readme = [README_HEAD.format(extracted=extracted.isoformat())]
    with zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, viewset_class in RESOURCES:
            view = viewset_class()
            view.request, view.format_kwarg, view.kwargs, view.action = api_request, None, {}, "list"
            queryset = listed_rows(view)
            count = 0
            with tempfile.TemporaryFile(dir=directory) as csv_rows:
                csv_output = _CSVOutput(csv_rows)
                with archive.open(f"{name}.json", "w", force_zip64=True) as member:
                    json_output = _JSONOutput(member)
                    rows = queryset.iterator(chunk_size=CHUNK_SIZE)
                    # to_representation() rather than .data, whose ReturnList and serializer refer to each
                    # other: every chunk would be garbage that only the rare full collection frees.
                    serializer = view.get_serializer(many=True)
                    while chunk := list(islice(rows, CHUNK_SIZE)):
                        data = serializer.to_representation(chunk)
                        json_output.write(data)
                        csv_output.write(data)
                        count += len(data)
                    json_output.close()
                with archive.open(f"{name}.csv", "w", force_zip64=True) as member:
                    csv_output.copy_to(member)
            readme.append(f"\n## {name}.json, {name}.csv ({count})\n")
            readme += [f"- `{column}`: {text}" for column, text in _columns(view.get_serializer())]
        archive.writestr("README.md", "\n".join(readme) + "\n")
        archive.comment = comment


class _JSONOutput:
    """Writes a list item by item, byte for byte as json.dumps(items, indent=1) would in one piece."""

    def __init__(self, member: IO[bytes]) -> None:
        self.member, self.empty = member, True
        member.write(b"[")

    def write(self, items: list) -> None:
        pieces = []
        for item in items:
            text = json.dumps(item, cls=JSONEncoder, ensure_ascii=False, indent=1)
            # JSON strings never hold a raw newline: each one starts a line to indent one level deeper.
            pieces.append((",\n " if pieces or not self.empty else "\n ") + text.replace("\n", "\n "))
        if pieces:
            self.member.write("".join(pieces).encode())
            self.empty = False

    def close(self) -> None:
        self.member.write(b"]" if self.empty else b"\n]")


class _CSVOutput:
    """The API's CSV, chunk by chunk: rows wait in a file until every column is known.

    CSVRenderer's columns are the union of all rows' (a nested value that is null in one row makes one
    column, not dotted ones). Columns are only ever added at the end, so a row written before one was
    added only lacks trailing empty cells."""

    def __init__(self, rows: IO[bytes]) -> None:
        self.rows, self.columns, self.widened = rows, [], False

    def write(self, data: list) -> None:
        header, _, body = CSVRenderer().render(data).partition(b"\r\n")
        # Column names are serializer field names joined by dots: no comma, no quote.
        columns = header.decode().split(",") if header else []
        if columns == self.columns:
            self.rows.write(body)
            return
        new = [column for column in columns if column not in self.columns]
        if new and self.rows.tell():
            self.widened = True
        self.columns += new
        position = {column: index for index, column in enumerate(columns)}
        writer = _csv_writer(self.rows)
        for row in csv.reader(io.StringIO(body.decode(), newline="")):
            writer.writerow([row[position[column]] if column in position else "" for column in self.columns])

    def copy_to(self, member: IO[bytes]) -> None:
        writer = _csv_writer(member)
        writer.writerow(self.columns)
        self.rows.seek(0)
        if not self.widened:
            while block := self.rows.read(COPY_BLOCK_BYTES):
                member.write(block)
            return
        width = len(self.columns)
        lines = (line.decode() for line in self.rows)
        for row in csv.reader(lines):
            writer.writerow(row + [""] * (width - len(row)))


class _Encoded:
    """A text writer on a binary file, for csv.writer, that leaves the file open (a TextIOWrapper closes it)."""

    def __init__(self, output: IO[bytes]) -> None:
        self.output = output

    def write(self, text: str) -> int:
        return self.output.write(text.encode())


def _csv_writer(output: IO[bytes]) -> Any:
    return csv.writer(_Encoded(output))


def _columns(serializer: serializers.Serializer, prefix: str = "") -> list[tuple[str, str]]:
    """Each column of a resource's CSV with its description, read from the serializer."""
    columns = []
    for name, field in serializer.fields.items():
        column = f"{prefix}{name}"
        if isinstance(field, serializers.Serializer) and not getattr(field, "many", False):
            columns += _columns(field, f"{column}.")
            continue
        text = field.help_text or getattr(field, "label", "") or ""
        columns.append((column, str(text)))
    return columns
