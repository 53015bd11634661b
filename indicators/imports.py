"""Indicator values as a CSV file: the template and the export written, an upload read, checked, then applied.

The three share their columns, so that a file exported, edited in a spreadsheet and imported again
changes only what was edited. Checking never writes; applying records every row or none.
"""

import csv
import datetime
import hashlib
import io
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TextIO

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from commitments.models import Commitment
from commitments.services import REASON_MAX_LENGTH
from indicators.fetch import SourceError
from indicators.models import Indicator, IndicatorValue, IndicatorValueOrigin, plain_number
from indicators.refresh import storable
from indicators.services import correct_value, record_value
from indicators.sources import decode_text, parse_number
from indicators.views import csv_text
from opengov.api_output import FORMULA_STARTS

COLUMNS = ("indicateur", "engagement", "nom", "unite", "date", "valeur", "note")
REQUIRED_COLUMNS = ("indicateur", "date", "valeur")
# A year of monthly values for a few hundred indicators fits well within both.
MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
# Each new value or correction goes through the services (history, progress, freshness): some ten queries,
# about 8 ms. A thousand keep the request well under a proxy's time limit and the commitments' rows locked
# for seconds; a round trip of a long export that changes a few values stays within it.
MAX_CHANGES = 1000
# French spreadsheets write ";", others ",", and a copy from a spreadsheet gives tabs.
DELIMITERS = (";", ",", "\t")
# Primary keys are BigAutoField: a larger number is no indicator, and PostgreSQL would refuse to compare it.
_LARGEST_ID = 2**63 - 1

_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_FRENCH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def commitment_label(commitment: Commitment) -> str:
    """How the file names a commitment, for the reader only: its OGP id, else plan/number."""
    return commitment.ogp_id or f"{commitment.plan.slug}/{commitment.number}"


def write_values_csv(out: TextIO, rows: Iterable[tuple[Indicator, IndicatorValue | None]]) -> None:
    """Write the header and one line per (indicator, value); a None value leaves date, value and note empty."""
    # The BOM and ";" are what French spreadsheet software needs to open the file in the right columns.
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";")
    writer.writerow(COLUMNS)
    for indicator, value in rows:
        writer.writerow(
            [
                indicator.pk,
                csv_text(commitment_label(indicator.commitment)),
                csv_text(indicator.name),
                csv_text(indicator.unit),
                value.date.isoformat() if value else "",
                # A plain number with a dot, so that a negative one stays a number.
                plain_number(value.value) if value else "",
                csv_text(value.note) if value else "",
            ]
        )


@dataclass(frozen=True)
class ImportRow:
    """One line of an uploaded file, its cells as written."""

    line: int
    indicator: str
    date: str
    value: str
    note: str


def decode_upload(data: bytes) -> str:
    """An uploaded file's text, UTF-8 (with or without BOM) or Windows-1252; ValidationError when it is none."""
    if len(data) > MAX_BYTES:
        raise ValidationError(too_big_message())
    text = decode_text(data)
    # Windows-1252 leaves five bytes undefined; decode_text replaces them, and a spreadsheet file holds none.
    if "\ufffd" in text:
        raise ValidationError(_not_csv())
    return text


def too_big_message() -> str:
    """Why a file is refused for its size, with the caps."""
    return _(
        "The file is too big: at most %(megabytes)s MB and %(rows)s rows can be imported at once. "
        "Split it into several files."
    ) % {"megabytes": MAX_BYTES // (1024 * 1024), "rows": number_format(MAX_ROWS, force_grouping=True)}


def _not_csv() -> str:
    return _(
        "This file is not a CSV file, or it is not written in UTF-8 or Windows-1252. From your spreadsheet, "
        "save it as “CSV (semicolon-separated)” or “CSV UTF-8”."
    )


def _column_name(text: str) -> str:
    """A header cell as compared: no accents, no case, no padding (“Unité ” is unite)."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lstrip("\ufeff").strip())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _note_text(cell: str) -> str:
    """The inverse of csv_text: a note exported as '=… comes back as =…, so that a round trip keeps it."""
    if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS):
        return cell[1:].strip()
    return cell


def parse_values_csv(text: str) -> list[ImportRow]:
    """Read the rows of a values file; ValidationError with one sentence per problem with the file as a whole."""
    # Browsers send a form's line breaks as CRLF: normalised here, the text reads the same after a round trip.
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if len(text.encode()) > MAX_BYTES:
        raise ValidationError(too_big_message())
    if "\x00" in text:
        raise ValidationError(_not_csv())
    if not text.strip():
        raise ValidationError(_("The file is empty."))
    first_line = text.split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=first_line.count)
    try:
        records = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as error:
        raise ValidationError(_("The file is not a readable CSV file (%(error)s).") % {"error": error}) from error
    header = [_column_name(cell) for cell in records[0]]
    if not set(header) & set(COLUMNS):
        raise ValidationError(
            _(
                "The file has no header line: its first line must name the columns, for example "
                "“%(columns)s”. Start from the template."
            )
            % {"columns": ";".join(COLUMNS)}
        )
    problems = [
        _("The column “%(column)s” appears twice in the header line.") % {"column": name}
        for name in COLUMNS
        if header.count(name) > 1
    ]
    problems += [
        _("The column “%(column)s” is missing from the header line.") % {"column": name}
        for name in REQUIRED_COLUMNS
        if name not in header
    ]
    if problems:
        raise ValidationError(problems)
    position = {name: header.index(name) for name in COLUMNS if name in header}

    def cell(record: list[str], name: str) -> str:
        index = position.get(name)
        return record[index].strip() if index is not None and index < len(record) else ""

    rows = []
    # Line numbers count records, as a spreadsheet numbers its rows: the header is line 1.
    for line, record in enumerate(records[1:], start=2):
        if not any(value.strip() for value in record):
            continue  # spreadsheets often end a file with empty lines (;;;;;;)
        if len(rows) == MAX_ROWS:
            raise ValidationError(too_big_message())
        rows.append(
            ImportRow(
                line=line,
                indicator=cell(record, "indicateur"),
                date=cell(record, "date"),
                value=cell(record, "valeur"),
                note=_note_text(cell(record, "note")),
            )
        )
    if not rows:
        raise ValidationError(_("The file has a header line but no row of values under it."))
    return rows


class ImportAction(models.TextChoices):
    NEW = "new", gettext_lazy("New value")
    CORRECTION = "correction", gettext_lazy("Correction")
    UNCHANGED = "unchanged", gettext_lazy("Unchanged")


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return _("Line %(line)s, column “%(column)s”: %(message)s") % {
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }


@dataclass
class PlannedRow:
    """A row and what importing it would do; `indicator` is set only when the user may update it."""

    row: ImportRow
    indicator: Indicator | None = None
    date: datetime.date | None = None
    value: Decimal | None = None
    current: IndicatorValue | None = None
    action: str = ""
    errors: list[RowError] = field(default_factory=list)

    @property
    def line(self) -> int:
        return self.row.line

    @property
    def note(self) -> str:
        return self.row.note

    @property
    def action_label(self) -> str:
        return str(ImportAction(self.action).label) if self.action else ""

    def error(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.line, column, message))
        self.errors.sort(key=lambda error: COLUMNS.index(error.column))  # in the file's order of columns


@dataclass
class ImportPlan:
    rows: list[PlannedRow]

    @property
    def errors(self) -> list[RowError]:
        return [error for row in self.rows for error in row.errors]

    @property
    def is_valid(self) -> bool:
        return not self.errors

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def changes(self) -> int:
        return self.count(ImportAction.NEW) + self.count(ImportAction.CORRECTION)

    @property
    def fingerprint(self) -> str:
        """What the import would do, in short: a confirmation applies only the plan that was previewed."""
        described = [
            [
                row.line,
                row.action,
                row.indicator.pk if row.indicator else None,
                str(row.date),
                str(row.value),
                row.note,
                [row.current.pk, str(row.current.value), row.current.note] if row.current else None,
                [str(error) for error in row.errors],
            ]
            for row in self.rows
        ]
        return hashlib.sha256(json.dumps(described).encode()).hexdigest()


def _date(text: str) -> datetime.date | None:
    match = _ISO_DATE.fullmatch(text)
    if match:
        year, month, day = match.groups()
    else:
        match = _FRENCH_DATE.fullmatch(text)
        if not match:
            return None
        day, month, year = match.groups()
    try:
        return datetime.date(int(year), int(month), int(day))
    except ValueError:
        return None


def _indicator_number(text: str) -> int | None:
    if not re.fullmatch(r"[0-9]{1,19}", text) or int(text) > _LARGEST_ID:
        return None
    return int(text)


def _check_cells(planned: PlannedRow, *, today: datetime.date) -> None:
    """What can be said of a row's date and value without the database."""
    row = planned.row
    for column, text in (("indicateur", row.indicator), ("date", row.date), ("valeur", row.value)):
        if not text:
            planned.error(column, _("This cell is empty, and it is required."))
    if row.date:
        planned.date = _date(row.date)
        if planned.date is None:
            planned.error(
                "date", _("“%(text)s” is not a date; write it 2024-12-31 or 31/12/2024.") % {"text": row.date}
            )
        elif planned.date > today:
            planned.error("date", _("A value cannot be recorded for a date still to come."))
            planned.date = None
    if row.value:
        try:
            number = parse_number(row.value, what=row.value)
        except SourceError:
            planned.error("valeur", _("“%(text)s” is not a number; write it 1234.5 or 1 234,5.") % {"text": row.value})
        else:
            try:
                planned.value = storable(number)
            except SourceError as error:
                planned.error("valeur", error.message)
    if len(row.note) > REASON_MAX_LENGTH:
        planned.error("note", _("A note is at most %(limit)s characters long.") % {"limit": REASON_MAX_LENGTH})


def plan_import(*, rows: list[ImportRow], user: Any) -> ImportPlan:
    """What importing these rows would do, row by row, with every error; nothing is written.

    ValidationError when the file would change more values than one import may."""
    today = timezone.localdate()
    plan = ImportPlan(rows=[PlannedRow(row=row) for row in rows])
    for planned in plan.rows:
        _check_cells(planned, today=today)
    numbers = {planned.line: _indicator_number(planned.row.indicator) for planned in plan.rows}
    ids = {number for number in numbers.values() if number is not None}
    existing_ids = set(Indicator.objects.filter(pk__in=ids).values_list("pk", flat=True))
    # Only the indicators the user may update are read in full: of the others, the file learns nothing.
    editable = {
        indicator.pk: indicator
        for indicator in Indicator.objects.editable_by(user).filter(pk__in=ids).select_related("commitment")
    }
    for planned in plan.rows:
        text = planned.row.indicator
        if not text:
            continue
        number = numbers[planned.line]
        if number in editable:
            planned.indicator = editable[number]
        elif number in existing_ids:
            planned.error("indicateur", _("Indicator %(id)s is not one whose values you may update.") % {"id": number})
        else:
            planned.error("indicateur", _("No indicator has the number “%(text)s”.") % {"text": text})

    dated = [p for p in plan.rows if p.indicator is not None and p.date is not None]
    current = {
        (value.indicator_id, value.date): value
        for value in IndicatorValue.objects.filter(
            indicator_id__in={p.indicator.pk for p in dated}, date__in={p.date for p in dated}
        )
    }
    first_line: dict[tuple[int, datetime.date], int] = {}
    for planned in dated:
        key = (planned.indicator.pk, planned.date)
        if key in first_line:
            planned.error(
                "date",
                _("Indicator %(id)s already has a row for %(date)s, at line %(line)s; keep only one.")
                % {"id": planned.indicator.pk, "date": planned.date.isoformat(), "line": first_line[key]},
            )
            continue
        first_line[key] = planned.line
        planned.current = current.get(key)
        if planned.current is not None:
            planned.current.indicator = planned.indicator  # the services read it, and its commitment
        _plan_value(planned)
    if plan.changes > MAX_CHANGES:
        raise ValidationError(
            _(
                "The file would record %(count)s new values and corrections; at most %(limit)s can be recorded at "
                "once. Split it into several files."
            )
            % {
                "count": number_format(plan.changes, force_grouping=True),
                "limit": number_format(MAX_CHANGES, force_grouping=True),
            }
        )
    return plan


def _plan_value(planned: PlannedRow) -> None:
    """Decide a row's action once its indicator and date are known to be good."""
    if planned.value is None:
        return
    indicator, current = planned.indicator, planned.current
    assert indicator is not None
    out_of_bounds = indicator.bounds_error(planned.value)
    if out_of_bounds:
        planned.error("valeur", out_of_bounds)
        return
    if current is None:
        planned.action = ImportAction.NEW
    elif current.value == planned.value:
        planned.action = ImportAction.UNCHANGED
    elif not planned.note or planned.note == current.note:
        what = {"date": current.date.isoformat(), "current": plain_number(current.value)}
        if not planned.note:
            message = _(
                "The value recorded on %(date)s is %(current)s: a correction needs a note that says why the "
                "value changes (it is public)."
            )
        else:
            message = _(
                "The value recorded on %(date)s is %(current)s: a correction needs a new note that says why the "
                "value changes, not the note already recorded."
            )
        planned.error("note", message % what)
    else:
        planned.action = ImportAction.CORRECTION


@dataclass(frozen=True)
class ImportCounts:
    created: int
    corrected: int
    unchanged: int


@transaction.atomic
def apply_import(*, plan: ImportPlan, by: User) -> ImportCounts:
    """Record a checked file's new values and corrections, every one or none, as if entered by hand."""
    if not plan.is_valid:
        raise ValidationError(_("The file has errors; nothing was imported."))
    changing = [row for row in plan.rows if row.action in (ImportAction.NEW, ImportAction.CORRECTION)]
    wanted = {row.indicator.pk for row in changing if row.indicator is not None}
    # The plan may have been made for someone else, or before a membership ended: checked again, for `by`.
    if len(wanted) != Indicator.objects.editable_by(by).filter(pk__in=wanted).count():
        raise ValidationError(_("Some indicators of the file are not yours to update; nothing was imported."))
    for row in changing:
        try:
            if row.action == ImportAction.NEW:
                record_value(
                    indicator=row.indicator,
                    date=row.date,
                    value=row.value,
                    origin=IndicatorValueOrigin.IMPORT,
                    by=by,
                    note=row.note,
                )
            else:
                correct_value(indicator_value=row.current, value=row.value, by=by, reason=row.note)
        except ValidationError as error:
            raise ValidationError(
                _("Line %(line)s: %(message)s Nothing was imported.")
                % {"line": row.line, "message": " ".join(error.messages)}
            ) from error
        except IntegrityError as error:
            # Two people recording the same date at the same moment: the database's constraint decides.
            raise ValidationError(
                _("Line %(line)s: someone else recorded a value for this date meanwhile. Nothing was imported.")
                % {"line": row.line}
            ) from error
    return ImportCounts(
        created=plan.count(ImportAction.NEW),
        corrected=plan.count(ImportAction.CORRECTION),
        unchanged=plan.count(ImportAction.UNCHANGED),
    )
