"""Indicator values in and out as CSV: the file's reading, the row checks, all-or-nothing, and the admin's pages.

The page tests need ValueImportAdminMixin on the registered IndicatorValueAdmin.
"""

import csv
import datetime
import hashlib
import io
from decimal import Decimal

import pytest
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import MembershipRole, User
from commitments.models import Administration, Commitment
from indicators import admin_import
from indicators.imports import (
    COLUMNS,
    MAX_BYTES,
    MAX_CHANGES,
    MAX_ROWS,
    ImportAction,
    ImportPlan,
    apply_import,
    decode_upload,
    parse_values_csv,
    plan_import,
    write_values_csv,
)
from indicators.models import Indicator, IndicatorValue, IndicatorValueOrigin
from indicators.services import record_value
from tests.factories import (
    AdministrationFactory,
    CarrierFactory,
    CommitmentFactory,
    IndicatorFactory,
    IndicatorValueFactory,
    MembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

HEADER = ";".join(COLUMNS)
DAY = datetime.date(2024, 3, 31)


def _file(*lines: str, header: str = HEADER, delimiter: str = ";", encoding: str = "utf-8-sig") -> bytes:
    rows = [header, *lines]
    if delimiter != ";":
        rows = [row.replace(";", delimiter) for row in rows]
    return "\r\n".join(rows).encode(encoding)


def _line(indicator: Indicator | int | str, date: str = "2024-03-31", value: str = "12", note: str = "") -> str:
    number = indicator.pk if isinstance(indicator, Indicator) else indicator
    return f"{number};;;;{date};{value};{note}"


def _plan(data: bytes, user: object) -> ImportPlan:
    return plan_import(rows=parse_values_csv(decode_upload(data)), user=user)


def _file_error(data: bytes) -> str:
    with pytest.raises(ValidationError) as raised:
        parse_values_csv(decode_upload(data))
    return " ".join(raised.value.messages)


def _errors(plan: ImportPlan) -> list[tuple[int, str, str]]:
    return [(error.line, error.column, error.message) for error in plan.errors]


def _carried_indicator(administration: Administration, **fields: object) -> Indicator:
    commitment = CommitmentFactory()
    CarrierFactory(commitment=commitment, administration=administration)
    return IndicatorFactory(commitment=commitment, **fields)


@pytest.fixture
def administration() -> Administration:
    return AdministrationFactory()


@pytest.fixture
def editor(administration: Administration) -> object:
    user = UserFactory(is_staff=True)
    MembershipFactory(user=user, administration=administration)
    return user


@pytest.fixture
def coordinator() -> object:
    user = UserFactory(is_staff=True)
    MembershipFactory(user=user, role=MembershipRole.COORDINATOR)
    return user


@pytest.fixture
def indicator(administration: Administration) -> Indicator:
    return _carried_indicator(administration, name="Jeux de données ouverts", maximum_value=Decimal(10000))


@pytest.fixture
def foreign_indicator() -> Indicator:
    """Carried by another administration only."""
    return _carried_indicator(AdministrationFactory(), name="Secret de l'autre ministère")


# Reading the file


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "cp1252"])
def test_a_file_is_read_whatever_its_delimiter_and_encoding(delimiter: str, encoding: str) -> None:
    data = _file("7;FR0042;Données;jeux;2024-03-31;12;Révisé à la hausse", delimiter=delimiter, encoding=encoding)
    [row] = parse_values_csv(decode_upload(data))
    assert (row.line, row.indicator, row.date, row.value, row.note) == (
        2,
        "7",
        "2024-03-31",
        "12",
        "Révisé à la hausse",
    )


def test_header_names_are_matched_without_case_accents_or_order() -> None:
    data = _file("31/03/2024;Révisé;12,5;7", header=" Date ;Note;VALEUR;Indicateur", encoding="utf-8")
    [row] = parse_values_csv(decode_upload(data))
    assert (row.indicator, row.date, row.value, row.note) == ("7", "31/03/2024", "12,5", "Révisé")


def test_empty_lines_are_skipped_and_lines_are_counted_as_a_spreadsheet_numbers_its_rows() -> None:
    data = _file("7;;;;2024-03-31;1;", ";;;;;;", '8;;;;2024-03-31;2;"sur\r\ndeux lignes"', "", "9;;;;2024-03-31;3;")
    rows = parse_values_csv(decode_upload(data))
    assert [(row.line, row.indicator) for row in rows] == [(2, "7"), (4, "8"), (6, "9")]
    assert rows[1].note == "sur\ndeux lignes"


@pytest.mark.parametrize("column", ["indicateur", "date", "valeur"])
def test_a_missing_required_column_is_named(column: str, english: None) -> None:
    header = ";".join(name for name in COLUMNS if name != column)
    assert _file_error(_file("1;2;3;4;5;6", header=header)) == f"The column “{column}” is missing from the header line."


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "The file is empty."),
        (b"\xef\xbb\xbf \r\n\r\n", "The file is empty."),
        (b"7;2024-03-31;12\r\n8;2024-03-31;13\r\n", "The file has no header line"),
        (_file(), "The file has a header line but no row of values under it."),
        (_file(";;;;;;"), "The file has a header line but no row of values under it."),
        (_file(header=HEADER + ";date"), "The column “date” appears twice in the header line."),
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00", "This file is not a CSV file"),
        (HEADER.encode() + b"\r\n7;;;;2024-03-31;12;\x81\x8d", "This file is not a CSV file"),
        (_file("7;;;;2024-03-31;12;" + "x" * MAX_BYTES), "The file is too big"),
        (_file(*["7;;;;2024-03-31;12;"] * (MAX_ROWS + 1)), "The file is too big"),
    ],
)
def test_a_file_that_cannot_be_read_says_why_in_a_sentence(data: bytes, words: str, english: None) -> None:
    assert words in _file_error(data)


def test_a_file_of_exactly_the_row_cap_is_read() -> None:
    assert len(parse_values_csv(decode_upload(_file(*["7;;;;2024-03-31;12;"] * MAX_ROWS)))) == MAX_ROWS


# Checking the rows


@pytest.mark.parametrize(
    ("written", "number"),
    [
        ("1234.5", "1234.5"),
        ("1 234,5", "1234.5"),
        ("1\u202f234,5", "1234.5"),
        ("1.234,5", "1234.5"),
        ("1,234.5", "1234.5"),
        ("12,5", "12.5"),
        ("0,123456", "0.1235"),  # rounded to the 4 decimals stored, as automatic readings are
    ],
)
def test_numbers_written_in_french_or_english(written: str, number: str, editor: object, indicator: Indicator) -> None:
    [row] = _plan(_file(_line(indicator, value=written)), editor).rows
    assert (row.value, row.action) == (Decimal(number), ImportAction.NEW)


@pytest.mark.parametrize("written", ["2024-03-31", "31/03/2024", "2024-3-31", "31/3/2024"])
def test_dates_written_iso_or_french(written: str, editor: object, indicator: Indicator) -> None:
    [row] = _plan(_file(_line(indicator, date=written)), editor).rows
    assert row.date == DAY
    assert row.action == ImportAction.NEW


def test_each_bad_row_is_named_by_its_line_and_column(
    editor: object, indicator: Indicator, foreign_indicator: Indicator, english: None
) -> None:
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    plan = _plan(
        _file(
            _line(999999),
            _line("douze"),
            _line(foreign_indicator),
            _line(indicator, date="31/02/2024"),
            _line(indicator, date="hier"),
            _line(indicator, date=tomorrow),
            _line(indicator, date="2024-01-01", value="douze"),
            _line(indicator, date="2024-01-02", value="-1"),
            _line(indicator, date="2024-01-03", value="10001"),
            _line(indicator, date="2024-01-04", value="1e20"),
            _line(indicator, date="2024-01-05"),
            _line(indicator, date="2024-01-05"),
            ";;;;;;note seule",
        ),
        editor,
    )
    assert _errors(plan) == [
        (2, "indicateur", "No indicator has the number “999999”."),
        (3, "indicateur", "No indicator has the number “douze”."),
        (4, "indicateur", f"Indicator {foreign_indicator.pk} is not one whose values you may update."),
        (5, "date", "“31/02/2024” is not a date; write it 2024-12-31 or 31/12/2024."),
        (6, "date", "“hier” is not a date; write it 2024-12-31 or 31/12/2024."),
        (7, "date", "A value cannot be recorded for a date still to come."),
        (8, "valeur", "“douze” is not a number; write it 1234.5 or 1 234,5."),
        (9, "valeur", "-1 is below 0, the lowest possible value of “Jeux de données ouverts”."),
        (10, "valeur", "10001 is above 10000, the highest possible value of “Jeux de données ouverts”."),
        (11, "valeur", "100000000000000000000 is too large to be stored (at most 16 digits before the decimal point)."),
        (13, "date", f"Indicator {indicator.pk} already has a row for 2024-01-05, at line 12; keep only one."),
        (14, "indicateur", "This cell is empty, and it is required."),
        (14, "date", "This cell is empty, and it is required."),
        (14, "valeur", "This cell is empty, and it is required."),
    ]
    assert str(plan.errors[0]) == "Line 2, column “indicateur”: No indicator has the number “999999”."


def test_another_administrations_indicator_is_refused_without_saying_anything_about_it(
    editor: object, foreign_indicator: Indicator
) -> None:
    [row] = _plan(_file(_line(foreign_indicator)), editor).rows
    assert row.indicator is None
    assert "Secret" not in " ".join(str(error) for error in row.errors)


def test_a_value_already_recorded_is_unchanged_and_a_different_one_is_a_correction_that_needs_a_new_note(
    editor: object, indicator: Indicator, english: None
) -> None:
    IndicatorValueFactory(indicator=indicator, date=datetime.date(2024, 1, 31), value=Decimal(10), note="Estimation")
    IndicatorValueFactory(indicator=indicator, date=datetime.date(2024, 2, 29), value=Decimal(20))
    IndicatorValueFactory(indicator=indicator, date=datetime.date(2024, 3, 31), value=Decimal(30))
    plan = _plan(
        _file(
            _line(indicator, date="2024-01-31", value="10,0", note="Autre note, ignorée"),
            _line(indicator, date="2024-02-29", value="21"),
            _line(indicator, date="2024-03-31", value="31", note="Chiffre définitif de l'Insee"),
            _line(indicator, date="2024-04-30", value="40"),
        ),
        editor,
    )
    assert [row.action for row in plan.rows] == ["unchanged", "", "correction", "new"]
    assert _errors(plan) == [
        (
            3,
            "note",
            "The value recorded on 2024-02-29 is 20: a correction needs a note that says why the value changes "
            "(it is public).",
        )
    ]
    exported_note = _plan(_file(_line(indicator, date="2024-01-31", value="11", note="Estimation")), editor)
    assert "a correction needs a new note" in exported_note.errors[0].message


def test_checking_a_file_takes_the_same_number_of_queries_whatever_its_length(
    editor: object, administration: Administration, django_assert_num_queries: object
) -> None:
    indicators = [_carried_indicator(administration) for _ in range(12)]
    for indicator in indicators:
        IndicatorValueFactory(indicator=indicator, date=DAY, value=Decimal(1))
    small = _file(*[_line(indicator, value="2", note="Révisé") for indicator in indicators[:2]])
    large = _file(*[_line(indicator, value="2", note="Révisé") for indicator in indicators])
    # A fresh user each time: a user's roles are read once and kept on the object.
    user = User.objects.get(pk=editor.pk)
    with CaptureQueriesContext(connection) as queries:
        assert _plan(small, user).count(ImportAction.CORRECTION) == 2
    user = User.objects.get(pk=editor.pk)
    with django_assert_num_queries(len(queries)):
        assert _plan(large, user).count(ImportAction.CORRECTION) == 12


def test_a_file_that_would_change_too_many_values_at_once_is_refused(
    editor: object, indicator: Indicator, english: None
) -> None:
    days = [DAY - datetime.timedelta(days=n) for n in range(MAX_CHANGES + 1)]
    rows = parse_values_csv(_file(*[_line(indicator, date=day.isoformat()) for day in days]).decode("utf-8-sig"))
    assert len(plan_import(rows=rows[:MAX_CHANGES], user=editor).rows) == MAX_CHANGES
    with pytest.raises(ValidationError, match="would record 1,001 new values and corrections; at most 1,000"):
        plan_import(rows=rows, user=editor)


# Applying


def test_a_file_is_applied_through_the_services(
    editor: object, indicator: Indicator, administration: Administration
) -> None:
    old = IndicatorValueFactory(indicator=indicator, date=datetime.date(2024, 2, 29), value=Decimal(20))
    plan = _plan(
        _file(
            _line(indicator, date="2024-02-29", value="25", note="Chiffre révisé par l'Insee"),
            _line(indicator, date="2024-03-31", value="50"),
        ),
        editor,
    )
    counts = apply_import(plan=plan, by=editor)
    assert (counts.created, counts.corrected, counts.unchanged) == (1, 1, 0)
    old.refresh_from_db()
    assert (old.value, old.note, old.recorded_by) == (Decimal(25), "Chiffre révisé par l'Insee", editor)
    new = IndicatorValue.objects.get(indicator=indicator, date=DAY)
    assert (new.value, new.origin, new.recorded_by) == (Decimal(50), IndicatorValueOrigin.IMPORT, editor)
    assert old.history.latest().history_change_reason == "Chiffre révisé par l'Insee"
    assert new.history.get().history_user == editor
    commitment = Commitment.objects.get(pk=indicator.commitment_id)
    assert commitment.updated_by == administration
    assert commitment.progress == 50


def test_a_file_with_one_bad_row_records_nothing(
    editor: object, indicator: Indicator, administration: Administration
) -> None:
    other = _carried_indicator(administration)
    IndicatorValueFactory(indicator=other, date=DAY, value=Decimal(5))
    history = IndicatorValue.history.count()
    plan = _plan(
        _file(
            _line(indicator, date="2024-01-31", value="10"),
            _line(indicator, date="2024-02-29", value="20"),
            _line(other, value="6", note="Correction"),
            _line(indicator, date="2024-03-31", value="douze"),
        ),
        editor,
    )
    assert not plan.is_valid
    with pytest.raises(ValidationError):
        apply_import(plan=plan, by=editor)
    assert list(IndicatorValue.objects.values_list("indicator", "value")) == [(other.pk, Decimal(5))]
    assert IndicatorValue.history.count() == history


def test_a_row_refused_when_applied_rolls_the_whole_file_back(
    editor: object, indicator: Indicator, english: None
) -> None:
    plan = _plan(_file(_line(indicator, date="2024-02-29", value="20"), _line(indicator, value="30")), editor)
    assert plan.is_valid
    # Someone records the same date between the check and the import.
    record_value(indicator=indicator, date=DAY, value=Decimal(31), by=None)
    history = IndicatorValue.history.count()
    with pytest.raises(ValidationError, match="Line 3: This indicator already has a value on this date"):
        apply_import(plan=plan, by=editor)
    assert list(IndicatorValue.objects.values_list("date", "value")) == [(DAY, Decimal(31))]
    assert IndicatorValue.history.count() == history


def test_a_plan_is_applied_only_for_someone_who_may_update_its_indicators(editor: object, indicator: Indicator) -> None:
    plan = _plan(_file(_line(indicator)), editor)
    stranger = UserFactory(is_staff=True)
    MembershipFactory(user=stranger)
    with pytest.raises(ValidationError):
        apply_import(plan=plan, by=stranger)
    assert not IndicatorValue.objects.exists()


# Writing


def test_text_cells_are_written_so_that_a_spreadsheet_shows_them_rather_than_runs_them(editor: object) -> None:
    indicator = IndicatorFactory(name='=HYPERLINK("http://x")', unit="+1")
    value = IndicatorValueFactory(indicator=indicator, value=Decimal("-3.5000"), note="-- révisé")
    out = io.StringIO()
    write_values_csv(out, [(indicator, value)])
    text = out.getvalue()
    assert text.startswith("\ufeff" + HEADER + "\r\n")
    [row] = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))[1:]
    assert row == [
        str(indicator.pk),
        f"{indicator.commitment.plan.slug}/{indicator.commitment.number}",
        '\'=HYPERLINK("http://x")',
        "'+1",
        "2019-01-01",
        "-3.5",
        "'-- révisé",
    ]
    [read] = parse_values_csv(text)
    assert read.note == "-- révisé"


# The admin's pages


def _url(name: str) -> str:
    return reverse(f"admin:indicators_indicatorvalue_{name}")


def _rows(response: object) -> list[dict[str, str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))


def _upload(client: Client, data: bytes) -> object:
    return client.post(_url("import"), {"file": io.BytesIO(data)})


def _confirm(client: Client, preview: object) -> object:
    return client.post(_url("import"), {"preview": preview.context["confirm"].initial["preview"]}, follow=True)


@pytest.mark.parametrize("name", ["import", "export", "template"])
def test_the_pages_are_for_people_who_may_update_an_indicator(
    client: Client, name: str, indicator: Indicator, editor: object
) -> None:
    assert client.get(_url(name)).status_code == 302  # to the login page
    assert "/login/" in client.get(_url(name))["Location"]
    client.force_login(UserFactory(is_staff=True))  # no role
    assert client.get(_url(name)).status_code == 403
    idle = UserFactory(is_staff=True)
    MembershipFactory(user=idle)  # editor of an administration that carries nothing
    client.force_login(idle)
    assert client.get(_url(name)).status_code == 403
    client.force_login(editor)
    assert client.get(_url(name)).status_code == 200


def test_an_upload_without_a_role_records_nothing(client: Client, indicator: Indicator) -> None:
    client.force_login(UserFactory(is_staff=True))
    assert _upload(client, _file(_line(indicator))).status_code == 403
    assert not IndicatorValue.objects.exists()


def test_the_template_lists_the_users_indicators_only(
    client: Client, editor: object, indicator: Indicator, foreign_indicator: Indicator
) -> None:
    IndicatorValueFactory(indicator=indicator)
    Commitment.objects.filter(pk=indicator.commitment_id).update(ogp_id="FR0042")
    client.force_login(editor)
    response = client.get(_url("template"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    assert _rows(response) == [
        {
            "indicateur": str(indicator.pk),
            "engagement": "FR0042",
            "nom": "Jeux de données ouverts",
            "unite": "jeux de données",
            "date": "",
            "valeur": "",
            "note": "",
        }
    ]


def test_the_export_holds_the_users_values_only_and_the_coordinators_all(
    client: Client, editor: object, coordinator: object, indicator: Indicator, foreign_indicator: Indicator
) -> None:
    IndicatorValueFactory(indicator=indicator, date=DAY, value=Decimal("1234.5"), note="Révisé")
    IndicatorValueFactory(indicator=foreign_indicator, date=DAY)
    client.force_login(editor)
    [row] = _rows(client.get(_url("export")))
    assert (row["indicateur"], row["date"], row["valeur"], row["note"]) == (
        str(indicator.pk),
        "2024-03-31",
        "1234.5",
        "Révisé",
    )
    client.force_login(coordinator)
    assert {row["indicateur"] for row in _rows(client.get(_url("export")))} == {
        str(indicator.pk),
        str(foreign_indicator.pk),
    }


def test_the_export_follows_the_lists_filters(client: Client, editor: object, indicator: Indicator) -> None:
    IndicatorValueFactory(indicator=indicator, date=DAY, origin=IndicatorValueOrigin.IMPORT)
    IndicatorValueFactory(indicator=indicator, date=datetime.date(2024, 2, 29), origin=IndicatorValueOrigin.MANUAL)
    client.force_login(editor)
    [row] = _rows(client.get(_url("export") + "?origin__exact=import"))
    assert row["date"] == "2024-03-31"


@pytest.mark.parametrize("name", ["export", "template"])
def test_the_files_take_the_same_number_of_queries_whatever_their_length(
    client: Client, name: str, editor: object, administration: Administration, django_assert_num_queries: object
) -> None:
    client.force_login(editor)

    def add(count: int) -> None:
        for _ in range(count):
            IndicatorValueFactory(indicator=_carried_indicator(administration))

    add(2)
    with CaptureQueriesContext(connection) as queries:
        assert len(_rows(client.get(_url(name)))) == 2
    add(10)
    with django_assert_num_queries(len(queries)):
        assert len(_rows(client.get(_url(name)))) == 12


def test_the_preview_changes_nothing_and_the_confirmation_applies_the_file(
    client: Client, editor: object, indicator: Indicator, english: None
) -> None:
    IndicatorValueFactory(indicator=indicator, date=datetime.date(2024, 2, 29), value=Decimal(20))
    client.force_login(editor)
    history = IndicatorValue.history.count()
    preview = _upload(client, _file(_line(indicator, date="29/02/2024", value="20"), _line(indicator, value="1 234,5")))
    assert preview.status_code == 200
    assert [row.action for row in preview.context["plan"].rows] == ["unchanged", "new"]
    assert "0 correction(s)" in preview.content.decode()
    assert IndicatorValue.objects.count() == 1
    assert IndicatorValue.history.count() == history
    assert Commitment.objects.get(pk=indicator.commitment_id).updated_at is None
    done = _confirm(client, preview)
    assert done.redirect_chain[-1][0] == _url("changelist")
    assert "The file is imported: 1 new value(s), 0 correction(s), 1 unchanged." in done.content.decode()
    assert IndicatorValue.objects.get(date=DAY).value == Decimal("1234.5")


def test_a_file_with_errors_shows_them_and_offers_no_confirmation(
    client: Client, editor: object, indicator: Indicator, foreign_indicator: Indicator, english: None
) -> None:
    client.force_login(editor)
    preview = _upload(client, _file(_line(indicator), _line(foreign_indicator), _line(indicator, value="douze")))
    page = preview.content.decode()
    assert (
        f"Line 3, column “indicateur”: Indicator {foreign_indicator.pk} is not one whose values you may update." in page
    )
    assert "Line 4, column “valeur”: “douze” is not a number" in page
    assert "Secret" not in page
    assert preview.context["confirm"] is None
    assert not IndicatorValue.objects.exists()


def test_a_confirmation_checks_the_file_again(
    client: Client, editor: object, indicator: Indicator, foreign_indicator: Indicator, english: None
) -> None:
    client.force_login(editor)
    # A preview made up by hand, as if signed by the server, naming another administration's indicator.
    text = HEADER + "\n" + _line(foreign_indicator)
    plan = plan_import(rows=parse_values_csv(text), user=editor)
    carried = signing.dumps(
        {"text": text, "fingerprint": plan.fingerprint}, salt=f"{admin_import._SALT}:{editor.pk}", compress=True
    )
    response = client.post(_url("import"), {"preview": carried})
    assert "nothing was imported" in response.content.decode()
    assert not IndicatorValue.objects.exists()
    response = client.post(_url("import"), {"preview": carried[:-2] + "xx"})
    assert "The preview could not be read; upload the file again." in response.content.decode()


def test_a_preview_confirmed_too_late_is_refused(
    client: Client, editor: object, indicator: Indicator, monkeypatch: pytest.MonkeyPatch, english: None
) -> None:
    client.force_login(editor)
    preview = _upload(client, _file(_line(indicator)))
    monkeypatch.setattr(admin_import, "PREVIEW_MAX_AGE", -1)
    assert "The preview has expired; upload the file again." in _confirm(client, preview).content.decode()
    assert not IndicatorValue.objects.exists()


def test_a_file_whose_preview_could_not_be_posted_back_is_refused_at_upload(
    client: Client, editor: object, indicator: Indicator, settings: object, english: None
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = admin_import._FORM_MARGIN + 1000
    client.force_login(editor)
    # Notes that do not compress, so that the carried preview outgrows what a request may post.
    notes = [
        _line(indicator, date=f"2024-01-{day:02}", note=hashlib.sha512(bytes([day])).hexdigest())
        for day in range(1, 29)
    ]
    response = _upload(client, _file(*notes))
    assert "The file is too big" in response.content.decode()
    assert "confirm" not in response.context


def test_a_confirmation_after_the_values_changed_shows_the_new_preview(
    client: Client, editor: object, indicator: Indicator, english: None
) -> None:
    client.force_login(editor)
    preview = _upload(client, _file(_line(indicator, value="12")))
    record_value(indicator=indicator, date=DAY, value=Decimal(11), by=None)
    response = _confirm(client, preview)
    assert "have changed since the preview; nothing was imported" in response.content.decode()
    assert [error.column for error in response.context["plan"].errors] == ["note"]
    assert IndicatorValue.objects.get().value == Decimal(11)


def test_a_row_refused_at_confirmation_shows_the_message_and_records_nothing(
    client: Client, editor: object, indicator: Indicator, monkeypatch: pytest.MonkeyPatch, english: None
) -> None:
    client.force_login(editor)
    preview = _upload(client, _file(_line(indicator, date="2024-02-29", value="1"), _line(indicator, value="2")))
    real_apply = admin_import.apply_import

    def racing_apply(*, plan: ImportPlan, by: object) -> object:
        # Someone else records line 3's date just after the confirmation's check.
        record_value(indicator=indicator, date=DAY, value=Decimal(3), by=None)
        return real_apply(plan=plan, by=by)

    monkeypatch.setattr(admin_import, "apply_import", racing_apply)
    response = _confirm(client, preview)
    assert "Line 3: This indicator already has a value on this date; correct it instead. Nothing was imported." in (
        response.content.decode()
    )
    assert list(IndicatorValue.objects.values_list("value", flat=True)) == [Decimal(3)]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "The file is empty."),
        (b"\x00\x01\x02", "This file is not a CSV file"),
        (b"x" * (MAX_BYTES + 1), "The file is too big"),
    ],
)
def test_a_bad_upload_is_a_sentence(
    client: Client, editor: object, indicator: Indicator, data: bytes, words: str, english: None
) -> None:
    client.force_login(editor)
    response = _upload(client, data)
    assert response.status_code == 200
    assert words in response.content.decode()


def test_the_round_trip_changes_only_what_was_edited(
    client: Client, editor: object, indicator: Indicator, administration: Administration
) -> None:
    other = _carried_indicator(administration, name="=Formule")
    for day, number in ((datetime.date(2024, 1, 31), 10), (datetime.date(2024, 2, 29), 20), (DAY, 30)):
        IndicatorValueFactory(indicator=indicator, date=day, value=Decimal(number), note="Estimation")
    IndicatorValueFactory(indicator=other, date=DAY, value=Decimal("0.5"), note="=1+1")
    client.force_login(editor)
    exported = client.get(_url("export")).content.decode("utf-8")
    lines = exported.split("\r\n")
    changed = [line for line in lines if line.startswith(f"{indicator.pk};") and ";2024-02-29;" in line]
    assert len(changed) == 1
    lines[lines.index(changed[0])] = changed[0].replace(";20;Estimation", ";21,5;Chiffre définitif")
    history = IndicatorValue.history.count()
    preview = _upload(client, "\r\n".join(lines).encode("utf-8"))
    assert [row.action for row in preview.context["plan"].rows].count("unchanged") == 3
    _confirm(client, preview)
    corrected = IndicatorValue.objects.get(indicator=indicator, date=datetime.date(2024, 2, 29))
    assert (corrected.value, corrected.note) == (Decimal("21.5"), "Chiffre définitif")
    assert IndicatorValue.history.count() == history + 1
    assert IndicatorValue.objects.get(indicator=other).note == "=1+1"


@pytest.mark.parametrize("role", ["editor", "coordinator"])
def test_the_list_offers_the_import_and_the_export_to_those_who_may_use_them(
    client: Client, role: str, request: pytest.FixtureRequest, indicator: Indicator
) -> None:
    client.force_login(request.getfixturevalue(role))
    page = client.get(_url("changelist") + "?origin__exact=manual").content.decode()
    assert f'href="{_url("import")}"' in page
    assert f'href="{_url("export")}?origin__exact=manual"' in page
    assert f'href="{_url("template")}"' in page


def test_the_list_offers_nothing_to_an_editor_whose_administration_carries_no_indicator(
    client: Client, indicator: Indicator
) -> None:
    idle = UserFactory(is_staff=True)
    MembershipFactory(user=idle)
    client.force_login(idle)
    response = client.get(_url("changelist"))
    assert response.status_code == 200
    assert _url("import") not in response.content.decode()
