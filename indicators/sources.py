"""What an indicator's source says: the number found in a JSON document, a CSV file, or the tracker's own data.

Each function raises SourceError with a sentence that names what was wrong; the refresh adds which
indicator and which source.
"""

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from indicators.fetch import CSV_TYPES, JSON_TYPES, SourceError, check_url, fetch
from indicators.models import Indicator, IndicatorRowRule, IndicatorSourceFormat

# A path into a JSON document: names separated by dots, list positions in brackets, and names that
# hold dots or brackets quoted in brackets: data.total, results[0].value, results[-1]["nb.total"].
_STEP = re.compile(r"""\.?(?P<name>[^.\[\]"]+)|\[(?P<index>-?\d+)\]|\["(?P<quoted>[^"]*)"\]""")


def parse_selector(selector: str) -> list[str | int]:
    steps: list[str | int] = []
    position = 0
    text = selector.strip()
    if not text:
        raise SourceError(_("The path to the number is empty; for example data.total or results[0].value."))
    while position < len(text):
        match = _STEP.match(text, position)
        if not match or (position == 0 and text.startswith(".")):
            raise SourceError(
                _(
                    "The path “%(selector)s” cannot be read at character %(position)s; write it like data.total or "
                    "results[0].value."
                )
                % {"selector": selector, "position": position + 1}
            )
        if match["index"] is not None:
            steps.append(int(match["index"]))
        else:
            steps.append(match["name"] if match["name"] is not None else match["quoted"])
        position = match.end()
    return steps


def _path(steps: list[str | int]) -> str:
    text = ""
    for step in steps:
        if isinstance(step, int):
            text += f"[{step}]"
        elif re.fullmatch(r"[^.\[\]\"]+", step):
            text += f".{step}" if text else step
        else:
            text += f'["{step}"]'
    return text


def number_from_json(document: object, selector: str) -> Decimal:
    steps = parse_selector(selector)
    current = document
    for done, step in enumerate(steps):
        where = _path(steps[:done]) or _("the document")
        if isinstance(step, int):
            if not isinstance(current, list):
                raise SourceError(
                    _("The path “%(selector)s” matches nothing: %(where)s is not a list.")
                    % {"selector": selector, "where": where}
                )
            if not -len(current) <= step < len(current):
                raise SourceError(
                    _("The path “%(selector)s” matches nothing: %(where)s has %(count)s elements.")
                    % {"selector": selector, "where": where, "count": len(current)}
                )
            current = current[step]
        else:
            if not isinstance(current, dict) or step not in current:
                raise SourceError(
                    _("The path “%(selector)s” matches nothing: %(where)s has no “%(name)s”.")
                    % {"selector": selector, "where": where, "name": step}
                )
            current = current[step]
    return as_number(current, what=_("the value at “%(selector)s”") % {"selector": selector})


def as_number(value: object, *, what: str) -> Decimal:
    """A figure from a JSON value or a CSV cell: a number, or text written as one in French or English."""
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        raise SourceError(_("%(what)s is not a number: %(value)s.") % {"what": what, "value": _shown(value)})
    number = Decimal(str(value)) if isinstance(value, int | float) else parse_number(str(value), what=what)
    if not number.is_finite():
        raise SourceError(_("%(what)s is not a finite number: %(value)s.") % {"what": what, "value": _shown(value)})
    return number


def parse_number(text: str, *, what: str) -> Decimal:
    # Thousands are often grouped by spaces (plain, no-break or narrow no-break) in French files.
    cleaned = re.sub(r"[\s\u00a0\u202f]", "", text)
    if "," in cleaned and "." in cleaned:
        # 1.234,5 (French) or 1,234.5 (English): the last separator is the decimal one.
        if cleaned.rfind(",") > cleaned.rfind("."):
            cleaned = cleaned.replace(".", "").replace(",", ".")
        else:
            cleaned = cleaned.replace(",", "")
    elif cleaned.count(",") == 1:
        cleaned = cleaned.replace(",", ".")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", cleaned):
        raise SourceError(_("%(what)s is not a number: %(value)s.") % {"what": what, "value": _shown(text)})
    try:
        return Decimal(cleaned)
    except InvalidOperation as error:
        raise SourceError(_("%(what)s is not a number: %(value)s.") % {"what": what, "value": _shown(text)}) from error


def _shown(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else f"“{value}”"
    return text if len(text) <= 80 else text[:77] + "…"


def read_json(body: bytes, selector: str) -> Decimal:
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise SourceError(_("The source's answer is not valid JSON (%(error)s).") % {"error": error}) from error
    return number_from_json(document, selector)


def decode_text(body: bytes, charset: str | None = None) -> str:
    """A file's text: in the charset it declares, else UTF-8 (with or without BOM), else Windows-1252."""
    for encoding in [charset, "utf-8-sig"]:
        if encoding:
            try:
                return body.decode(encoding)
            except (LookupError, UnicodeDecodeError):
                continue
    # Many French public files are still in Windows-1252; it decodes any byte.
    return body.decode("cp1252", errors="replace")


@dataclass(frozen=True)
class CsvRule:
    column: str
    row_rule: str
    match_column: str = ""
    match_value: str = ""


def read_csv(body: bytes, charset: str | None, rule: CsvRule) -> Decimal:
    text = decode_text(body, charset)
    if "\x00" in text:
        raise SourceError(_("The source's answer is not a CSV file (it holds binary data)."))
    sample = text[:20000]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.DictReader(io.StringIO(text), dialect=dialect))
    except csv.Error as error:
        message = _("The source's answer is not a readable CSV file (%(error)s).") % {"error": error}
        raise SourceError(message) from error
    if not rows:
        raise SourceError(_("The CSV file has no data row."))
    # Header names are compared without the spaces that often pad them.
    rows = [{(name or "").strip(): value for name, value in row.items()} for row in rows]
    header = list(rows[0])
    needed = [rule.column] + ([rule.match_column] if rule.row_rule == IndicatorRowRule.MATCH else [])
    for column in needed:
        if column not in header:
            raise SourceError(
                _("The CSV file has no column “%(column)s”; its columns are: %(columns)s.")
                % {"column": column, "columns": ", ".join(header)[:300]}
            )

    def cell(row: dict, line: int) -> Decimal:
        what = _("the column “%(column)s” at line %(line)s") % {"column": rule.column, "line": line}
        return as_number((row.get(rule.column) or "").strip(), what=what)

    if rule.row_rule == IndicatorRowRule.LAST:
        return cell(rows[-1], len(rows) + 1)
    if rule.row_rule == IndicatorRowRule.SUM:
        return sum((cell(row, line) for line, row in enumerate(rows, start=2)), Decimal(0))
    matching = [
        (line, row)
        for line, row in enumerate(rows, start=2)
        if (row.get(rule.match_column) or "").strip() == rule.match_value.strip()
    ]
    if not matching:
        raise SourceError(
            _("No row of the CSV file has “%(value)s” in the column “%(column)s”.")
            % {"value": rule.match_value, "column": rule.match_column}
        )
    if len(matching) > 1:
        raise SourceError(
            _("%(count)s rows of the CSV file have “%(value)s” in the column “%(column)s”; the rule needs exactly one.")
            % {"count": len(matching), "value": rule.match_value, "column": rule.match_column}
        )
    line, row = matching[0]
    return cell(row, line)


# Figures the tracker computes from its own data, by the name kept in the indicator's selector.
@dataclass(frozen=True)
class Computation:
    label: str
    compute: Callable[[Indicator], Decimal]


def _milestones_done_share(indicator: Indicator) -> Decimal:
    milestones = list(indicator.commitment.milestones.values_list("completed_on", flat=True))
    if not milestones:
        raise SourceError(_("The commitment has no milestone, so no share of milestones done can be computed."))
    done = sum(1 for completed_on in milestones if completed_on is not None)
    return (Decimal(done) * 100 / len(milestones)).quantize(Decimal("0.01"))


def _milestones_done(indicator: Indicator) -> Decimal:
    return Decimal(indicator.commitment.milestones.filter(completed_on__isnull=False).count())


def _questions_answered(indicator: Indicator) -> Decimal:
    from forums.models import Contribution  # forums builds on indicators' neighbours, not the reverse

    questions = Contribution.objects.published().questions().filter(commitment_id=indicator.commitment_id)
    return Decimal(questions.answered().count())


COMPUTATIONS: dict[str, Computation] = {
    "milestones_done_share": Computation(
        gettext_lazy("Share of the commitment's milestones done (%)"), _milestones_done_share
    ),
    "milestones_done": Computation(gettext_lazy("Number of the commitment's milestones done"), _milestones_done),
    "questions_answered": Computation(
        gettext_lazy("Number of the citizens' questions on the commitment that were answered"), _questions_answered
    ),
}


def describe_source(indicator: Indicator) -> str:
    """What is read: the URL, or the name of the computation."""
    if indicator.source_format == IndicatorSourceFormat.COMPUTED:
        computation = COMPUTATIONS.get(indicator.source_selector)
        return str(computation.label) if computation else indicator.source_selector
    return indicator.source_url or _("no source")


def describe_reading(indicator: Indicator) -> str:
    """Where in its source the figure is read, in words; empty for values entered by people."""
    if indicator.source_format == IndicatorSourceFormat.JSON:
        return _("path %(selector)s") % {"selector": indicator.source_selector}
    if indicator.source_format == IndicatorSourceFormat.CSV:
        column = indicator.source_selector
        if indicator.source_row_rule == IndicatorRowRule.SUM:
            return _("sum of the column “%(column)s”") % {"column": column}
        if indicator.source_row_rule == IndicatorRowRule.MATCH:
            return _("column “%(column)s” of the row where “%(match)s” is “%(value)s”") % {
                "column": column,
                "match": indicator.source_match_column,
                "value": indicator.source_match_value,
            }
        return _("column “%(column)s”, last row") % {"column": column}
    if indicator.source_format == IndicatorSourceFormat.COMPUTED:
        return describe_source(indicator)
    return ""


def check_source(indicator: Indicator, *, resolve_host: bool = True) -> dict[str, str]:
    """What is wrong with an indicator's source settings, by field; empty when they can be read."""
    errors: dict[str, str] = {}
    kind = indicator.source_format
    if kind == IndicatorSourceFormat.MANUAL:
        return errors
    if kind == IndicatorSourceFormat.COMPUTED:
        if indicator.source_selector not in COMPUTATIONS:
            errors["source_selector"] = _("For a computed source, write one of: %(names)s.") % {
                "names": ", ".join(COMPUTATIONS)
            }
        return errors
    if not indicator.source_url:
        errors["source_url"] = _("A JSON or CSV source needs its URL.")
    elif resolve_host:
        try:
            check_url(indicator.source_url)
        except SourceError as error:
            errors["source_url"] = error.message
    if kind == IndicatorSourceFormat.JSON:
        try:
            parse_selector(indicator.source_selector)
        except SourceError as error:
            errors["source_selector"] = error.message
    elif kind == IndicatorSourceFormat.CSV:
        if not indicator.source_selector.strip():
            errors["source_selector"] = _("For a CSV source, name the column that holds the number.")
        if indicator.source_row_rule == IndicatorRowRule.MATCH:
            if not indicator.source_match_column.strip():
                errors["source_match_column"] = _("The rule “row where a column equals a value” needs that column.")
            if not indicator.source_match_value.strip():
                errors["source_match_value"] = _("The rule “row where a column equals a value” needs that value.")
    return errors


def read_source(indicator: Indicator) -> Decimal:
    """Read the indicator's source once and return the number it gives now."""
    kind = indicator.source_format
    if kind == IndicatorSourceFormat.MANUAL:
        raise SourceError(_("This indicator's values are entered by people; it has no source to read."))
    problems = check_source(indicator, resolve_host=False)
    if problems:
        raise SourceError(" ".join(problems.values()))
    if kind == IndicatorSourceFormat.COMPUTED:
        return COMPUTATIONS[indicator.source_selector].compute(indicator)
    if kind == IndicatorSourceFormat.JSON:
        fetched = fetch(indicator.source_url, accept=JSON_TYPES)
        return read_json(fetched.body, indicator.source_selector)
    fetched = fetch(indicator.source_url, accept=CSV_TYPES)
    rule = CsvRule(
        column=indicator.source_selector.strip(),
        row_rule=indicator.source_row_rule,
        match_column=indicator.source_match_column.strip(),
        match_value=indicator.source_match_value,
    )
    return read_csv(fetched.body, fetched.charset, rule)
