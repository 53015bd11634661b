"""A synthetic data set at the scale of the whole OGP, for load tests (`manage.py generate_scale_data`).

It is written only into a database of its own (DATABASE_URL=postgres://…/opengov_scale): one that holds
a plan or an administration that is not synthetic is refused, so invented figures never mix with real
ones. Everything written says it is synthetic: plans and administrations carry `is_synthetic`, and
titles, names and notes say "synthétique".

Rows are written in bulk, COPY on PostgreSQL and batched bulk_create elsewhere, with identifiers chosen
here so that nothing has to be read back. Bulk writes bypass django-simple-history, so the history rows
a tracker in use would hold are written here too (`history_rows`): each commitment, milestone, carrier and
indicator added when its plan began, the commitments' completion and the milestones done changed later, and
the latest value of each indicator recorded (the earlier ones imported before the history began). Pages that
show history (home, updates, a commitment's timeline) then do at scale what they do on real data. For the
same reason the stored progress (ADR 0001) is computed here, by the functions of commitments/progress.py,
rather than by refresh_progress one commitment at a time.
"""

import csv
import datetime
import io
import itertools
import json
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from commitments.models import (
    ActionPlan,
    ActionPlanStatus,
    Administration,
    AdministrationKind,
    Axis,
    Carrier,
    CarrierRole,
    Commitment,
    CommitmentCompletion,
    CommitmentOgpValue,
    Milestone,
)
from commitments.progress import commitment_progress, indicator_progress
from forums.models import Answer, Contribution, ContributionKind, ContributionState, Forum
from indicators.models import Indicator, IndicatorDirection, IndicatorRefresh, IndicatorValue, IndicatorValueOrigin

# How the synthetic rows name themselves; stored text, so not translated. Forums have no flag of their
# own and are found again by their title's prefix.
TITLE_PREFIX = "Données synthétiques — "
MARK = "(synthétique)"
VALUE_NOTE = "Valeur synthétique"
# Seconds after 09:00 over which the history rows of a day are spread.
WORKING_DAY = 8 * 3600
# The reason every synthetic history row gives, shown on the public timeline (at most 100 characters).
HISTORY_REASON = "Historique synthétique, généré pour les tests de charge"
SUMMARY = "Engagement synthétique, généré pour les tests de charge : ni ce texte ni ces chiffres ne sont réels."

COPY_ROWS = 100_000
UTC = datetime.UTC


@dataclass(frozen=True)
class Sizes:
    """How many of each; the defaults are the OGP's scale (issue 9)."""

    owners: int = 150
    administrations: int = 1_500
    plans: int = 600
    commitments: int = 10_000
    indicators: int = 40_000
    values: int = 4_000_000
    forums: int = 300
    contributions: int = 20_000

    def scaled(self, factor: float) -> "Sizes":
        """The same shape, every size multiplied by `factor` (at least one of each)."""
        return Sizes(**{name: max(1, round(size * factor)) for name, size in asdict(self).items()})

    def check(self) -> None:
        if min(asdict(self).values()) < 1 or self.administrations < self.owners:
            raise ValueError(
                _("Every size is at least 1, with at least as many administrations as owners (each needs one).")
            )


@dataclass(frozen=True)
class Step:
    """One table written (or being written, when `finished` is false), for the command's report."""

    table: str
    rows: int
    seconds: float
    finished: bool = True


class ScaleDataRefused(Exception):
    pass


# --- The database --------------------------------------------------------------------------------


def check_database(*, replace: bool) -> None:
    """Refuse a database with real plans or administrations, or with synthetic data unless replacing it."""
    real = (
        ActionPlan.objects.filter(is_synthetic=False).count(),
        Administration.objects.filter(is_synthetic=False).count(),
    )
    if any(real):
        raise ScaleDataRefused(
            _(
                "This database holds real data (%(plans)s plans and %(administrations)s administrations that are "
                "not synthetic): synthetic data is only written into a database of its own, for example "
                "DATABASE_URL=postgres://…/opengov_scale. Nothing was changed."
            )
            % {"plans": real[0], "administrations": real[1]}
        )
    present = ActionPlan.objects.exists() or Administration.objects.exists()  # all synthetic by now
    if present and not replace:
        raise ScaleDataRefused(
            _("This database already holds synthetic data; ask to replace it (--replace). Nothing was changed.")
        )


def _delete(queryset: models.QuerySet) -> int:
    """One DELETE statement: no rows loaded, no signals, hence no history rows for millions of values."""
    model = queryset.model
    subquery, params = queryset.values("pk").query.sql_with_params()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {quote(model._meta.db_table)} WHERE {quote(model._meta.pk.column)} IN ({subquery})", params
        )
        return cursor.rowcount


def delete_synthetic_data(report: Callable[[Step], None]) -> None:
    """Delete every synthetic row, what refers to them first."""
    forums = Forum.objects.filter(title__startswith=TITLE_PREFIX)
    commitments = Commitment.objects.filter(plan__is_synthetic=True)
    indicators = Indicator.objects.filter(commitment__in=commitments)
    querysets = [
        # History rows first, while the objects they copy can still be found.
        IndicatorValue.history.filter(indicator_id__in=indicators.values("pk")),
        Indicator.history.filter(commitment_id__in=commitments.values("pk")),
        Milestone.history.filter(commitment_id__in=commitments.values("pk")),
        Carrier.history.filter(commitment_id__in=commitments.values("pk")),
        Commitment.history.filter(id__in=commitments.values("pk")),
        Answer.objects.filter(
            Q(contribution__commitment__in=commitments)
            | Q(contribution__forum__in=forums)
            | Q(administration__is_synthetic=True)
        ),
        Contribution.objects.filter(Q(commitment__in=commitments) | Q(forum__in=forums)),
        Forum.commitments.through.objects.filter(Q(commitment__in=commitments) | Q(forum__in=forums)),
        forums,
        IndicatorRefresh.objects.filter(indicator__commitment__in=commitments),
        IndicatorValue.objects.filter(indicator__commitment__in=commitments),
        Indicator.objects.filter(commitment__in=commitments),
        Milestone.objects.filter(commitment__in=commitments),
        Carrier.objects.filter(Q(commitment__in=commitments) | Q(administration__is_synthetic=True)),
        commitments,
        Axis.objects.filter(plan__is_synthetic=True),
        ActionPlan.objects.filter(is_synthetic=True),
        Administration.objects.filter(is_synthetic=True),
    ]
    for queryset in querysets:
        started = time.monotonic()
        rows = _delete(queryset)
        label = _("%(table)s (deleted)") % {"table": queryset.model._meta.db_table}
        report(Step(label, rows, time.monotonic() - started))


def _next_id(model: type[models.Model]) -> int:
    return (model.objects.aggregate(last=Max("pk"))["last"] or 0) + 1


def _copy_cell(field: models.Field) -> Callable[[object], object] | None:
    """How a column's Python value is written in COPY's CSV, where the csv module's own is not right."""
    if isinstance(field, models.JSONField):
        return lambda value: json.dumps(value, ensure_ascii=False)
    if isinstance(field, models.DurationField):
        return lambda value: None if value is None else f"{value.total_seconds()} seconds"
    return None


def _write(model: type[models.Model], columns: list[str], rows: Iterable[tuple], report: Callable[[Step], None]) -> int:
    """Insert rows of values for `columns` (attribute names, the primary key included); returns their count."""
    table, started, count = model._meta.db_table, time.monotonic(), 0
    fields = [model._meta.get_field(column) for column in columns]
    rows = iter(rows)
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        names = ", ".join(quote(f.column) for f in fields)
        # The csv module quotes None as "", which FORCE_NULL reads as NULL; no nullable column here holds text.
        nullable = ", ".join(quote(f.column) for f in fields if f.null) or None
        options = f", FORCE_NULL ({nullable})" if nullable else ""
        statement = f"COPY {quote(table)} ({names}) FROM STDIN WITH (FORMAT csv{options})"
        converters = [(index, convert) for index, f in enumerate(fields) if (convert := _copy_cell(f))]
        with connection.cursor() as cursor:
            while chunk := list(itertools.islice(rows, COPY_ROWS)):
                if converters:
                    chunk = [_convert(row, converters) for row in chunk]
                buffer = io.StringIO()
                csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n").writerows(chunk)
                buffer.seek(0)
                cursor.cursor.copy_expert(statement, buffer)  # the driver's cursor, under Django's wrapper
                count += len(chunk)
                report(Step(table, count, time.monotonic() - started, finished=False))
    else:
        while chunk := list(itertools.islice(rows, COPY_ROWS)):
            model.objects.bulk_create(model(**dict(zip(columns, row, strict=True))) for row in chunk)
            count += len(chunk)
    report(Step(table, count, time.monotonic() - started))
    return count


def _convert(row: tuple, converters: list[tuple[int, Callable[[object], object]]]) -> tuple:
    cells = list(row)
    for index, convert in converters:
        cells[index] = convert(cells[index])
    return tuple(cells)


def _write_dicts(model: type[models.Model], rows: list[dict], report: Callable[[Step], None]) -> int:
    """Insert rows given as {attribute name: value}; columns left out take the field's default."""
    fields = [f for f in model._meta.concrete_fields if not f.generated]  # the database computes the others
    defaults = {f.attname: f.get_default() for f in fields}
    columns = [f.attname for f in fields]
    return _write(model, columns, (tuple(row.get(c, defaults[c]) for c in columns) for row in rows), report)


# --- The data set --------------------------------------------------------------------------------

THEMES = [
    "la commande publique",
    "les données de santé",
    "le budget de l'État",
    "les décisions de justice",
    "l'action des représentants d'intérêts",
    "les subventions aux associations",
    "les algorithmes publics",
    "la qualité de l'air",
    "l'aide au développement",
    "les archives publiques",
    "la participation des jeunes",
    "l'évaluation des politiques publiques",
]
ACTIONS = [
    "Ouvrir les données sur",
    "Publier chaque année un rapport sur",
    "Associer les citoyens aux décisions sur",
    "Rendre compte de",
    "Simplifier l'accès à l'information sur",
    "Former les agents publics à la transparence sur",
]
AXES = [
    "Rendre des comptes",
    "Consulter, concerter et coproduire l'action publique",
    "Partager des ressources numériques",
    "Poursuivre l'ouverture des données",
    "Renforcer l'intégrité publique",
]
MILESTONES = [
    "Lancement d'une consultation publique",
    "Publication d'un premier jeu de données",
    "Adoption du texte réglementaire",
    "Mise en ligne de la plateforme",
    "Premier rapport d'étape",
    "Évaluation à mi-parcours",
    "Rapport final",
]


@dataclass(frozen=True)
class IndicatorKind:
    name: str
    unit: str
    direction: str
    baseline: tuple[int, int]
    decimals: int


INDICATOR_KINDS = [
    IndicatorKind("Nombre de jeux de données publiés", "jeux de données", IndicatorDirection.INCREASE, (20, 500), 0),
    IndicatorKind("Part des demandes d'accès satisfaites", "%", IndicatorDirection.INCREASE, (20, 60), 1),
    IndicatorKind("Délai moyen de réponse", "jours", IndicatorDirection.DECREASE, (30, 120), 1),
    IndicatorKind("Nombre de participants aux consultations", "personnes", IndicatorDirection.INCREASE, (100, 5000), 0),
    IndicatorKind("Nombre de réutilisations recensées", "réutilisations", IndicatorDirection.INCREASE, (5, 200), 0),
    IndicatorKind("Part des décisions publiées en ligne", "%", IndicatorDirection.INCREASE, (5, 50), 1),
    IndicatorKind("Coût moyen d'une demande d'accès", "euros", IndicatorDirection.DECREASE, (50, 400), 2),
]
ADMINISTRATION_KINDS = [AdministrationKind.MINISTRY] * 5 + [
    AdministrationKind.AGENCY,
    AdministrationKind.AGENCY,
    AdministrationKind.LOCAL_GOVERNMENT,
    AdministrationKind.INDEPENDENT_AUTHORITY,
    AdministrationKind.COURT,
]


@dataclass
class ValueSeries:
    """An indicator's values: `count` dates from `first` (an ordinal) every `step` days, drifting from
    `base` to `final`. The last one, `latest` as written, is known before any is, for the progress."""

    indicator_id: int
    count: int
    first: int
    step: float
    base: float
    final: float
    noise: float
    high: float
    number_format: str
    origin: str
    latest: str = ""


@dataclass
class DataSet:
    """The rows of every table but the values, which are streamed from `series`."""

    rows: dict[type[models.Model], list[dict]] = field(default_factory=dict)
    series: list[ValueSeries] = field(default_factory=list)

    def add(self, model: type[models.Model], row: dict) -> dict:
        self.rows.setdefault(model, []).append(row)
        return row


def split(total: int, parts: int, rng: random.Random, spread: float) -> list[int]:
    """`total` items over `parts` holders, each about total/parts (± spread of it), summing to `total`."""
    if parts == 0:
        return []
    weights = [1 + spread * (2 * rng.random() - 1) for _ in range(parts)]
    each = total / sum(weights)
    counts = [int(weight * each) for weight in weights]
    for index in rng.sample(range(parts), total - sum(counts)):
        counts[index] += 1
    return counts


class Ids:
    """The next identifier of each table, read once: rows are written with theirs."""

    def __init__(self) -> None:
        self._next: dict[type[models.Model], int] = {}

    def take(self, model: type[models.Model]) -> int:
        if model not in self._next:
            self._next[model] = _next_id(model)
        self._next[model] += 1
        return self._next[model] - 1


def _day_between(rng: random.Random, first: datetime.date, last: datetime.date) -> datetime.date:
    return datetime.date.fromordinal(rng.randint(first.toordinal(), max(first, last).toordinal()))


def _moment(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(9), tzinfo=UTC)


def _plan_years(rng: random.Random, count: int, today: datetime.date) -> list[tuple[int, int]]:
    """An owner's plans of two or three years, one after another, oldest first; the last one started
    this year or up to three years ago."""
    start, years = today.year - rng.choice([0, 0, 0, 1, 2, 3]), []
    for index in range(count):
        duration = rng.choice([2, 2, 3])
        start -= duration if index else 0
        years.append((start, start + duration - 1))
    return years[::-1]


def _plan_status(rng: random.Random, start: int, end: int, is_last: bool, today: datetime.date) -> str:
    if end < today.year:
        return ActionPlanStatus.CLOSED
    if is_last and start == today.year:
        return rng.choice([ActionPlanStatus.DRAFT, ActionPlanStatus.CONSULTATION, ActionPlanStatus.IN_PROGRESS])
    return ActionPlanStatus.IN_PROGRESS


def _completion(rng: random.Random, status: str, progress: int | None) -> str:
    """A level on the OGP scale that agrees with the progress, once a plan is under way."""
    if rng.random() < 0.02:
        return CommitmentCompletion.WITHDRAWN
    if progress is None or status in (ActionPlanStatus.DRAFT, ActionPlanStatus.CONSULTATION):
        return CommitmentCompletion.UNKNOWN
    if status == ActionPlanStatus.IN_PROGRESS and rng.random() < 0.6:
        return CommitmentCompletion.UNKNOWN
    if progress >= 90:
        return CommitmentCompletion.COMPLETE
    if progress >= 50:
        return CommitmentCompletion.SUBSTANTIAL
    return CommitmentCompletion.LIMITED if progress > 0 else CommitmentCompletion.NOT_STARTED


def build(sizes: Sizes, *, seed: int, today: datetime.date) -> DataSet:
    """Every row of the data set but the values, in memory; the same seed and day give the same rows."""
    sizes.check()
    rng, ids, data = random.Random(seed), Ids(), DataSet()
    administrations = iter(range(1, sizes.administrations + 1))
    plan_counts = split(sizes.plans, sizes.owners, rng, 0.25)
    commitment_counts = iter(split(sizes.commitments, sizes.plans, rng, 0.4))
    indicator_counts = iter(split(sizes.indicators, sizes.commitments, rng, 0))
    value_counts = iter(split(sizes.values, sizes.indicators, rng, 0.5))
    for owner, (plan_count, administration_count) in enumerate(
        # At least one administration each, to lead its commitments.
        zip(plan_counts, split(sizes.administrations - sizes.owners, sizes.owners, rng, 0.3), strict=True),
        start=1,
    ):
        pool = [_administration(data, ids, rng, next(administrations)) for _ in range(administration_count + 1)]
        predecessor: dict | None = None
        years = _plan_years(rng, plan_count, today)
        for index, (start, end) in enumerate(years):
            plan = _plan(data, ids, rng, owner, start, end, predecessor, index == len(years) - 1, today)
            _commitments(data, ids, rng, plan, predecessor, pool, next(commitment_counts), today)
            predecessor = plan
    commitments = data.rows.get(Commitment, [])
    for commitment in commitments:
        _indicators(data, ids, rng, commitment, next(indicator_counts), value_counts, today)
    for commitment in commitments:
        _store_progress(rng, commitment)
    _forums_and_contributions(data, ids, rng, sizes, commitments, today)
    return data


def _administration(data: DataSet, ids: Ids, rng: random.Random, number: int) -> dict:
    return data.add(
        Administration,
        {
            "id": ids.take(Administration),
            "name": f"Administration synthétique {number:04d}",
            "name_en": f"Synthetic administration {number:04d}",
            "short_name": f"AS{number:04d}",
            "slug": f"synthetique-{number:04d}",
            "kind": rng.choice(ADMINISTRATION_KINDS),
            "is_synthetic": True,
        },
    )


def _plan(
    data: DataSet,
    ids: Ids,
    rng: random.Random,
    owner: int,
    start: int,
    end: int,
    predecessor: dict | None,
    is_last: bool,
    today: datetime.date,
) -> dict:
    status = _plan_status(rng, start, end, is_last, today)
    opens = today - datetime.timedelta(days=10) if status == ActionPlanStatus.CONSULTATION else None
    plan = data.add(
        ActionPlan,
        {
            "id": ids.take(ActionPlan),
            "title": f"{TITLE_PREFIX}plan {start}-{end} du membre synthétique {owner:03d}",
            "title_en": f"Synthetic data — {start}-{end} plan of synthetic member {owner:03d}",
            "slug": f"synthetique-{owner:03d}-{start}-{end}",
            "owner": f"Membre synthétique {owner:03d}",
            "start_year": start,
            "end_year": end,
            "published_on": None if status == ActionPlanStatus.DRAFT else min(today, datetime.date(start, 3, 1)),
            "status": status,
            "consultation_opens_on": opens,
            "consultation_closes_on": opens + datetime.timedelta(days=30) if opens else None,
            "description": "Plan généré pour les tests de charge : ses engagements et ses chiffres ne sont pas réels.",
            "predecessor_id": predecessor["id"] if predecessor else None,
            "is_synthetic": True,
        },
    )
    plan["axes"] = [
        data.add(
            Axis,
            {
                "id": ids.take(Axis),
                "plan_id": plan["id"],
                "number": number,
                "title": f"{topic} {MARK}",
                "title_en": f"Synthetic axis {number}",
            },
        )["id"]
        for number, topic in enumerate(rng.sample(AXES, rng.randint(3, 5)), start=1)
    ]
    plan["commitments"] = []
    return plan


def _commitments(
    data: DataSet,
    ids: Ids,
    rng: random.Random,
    plan: dict,
    predecessor: dict | None,
    pool: list[dict],
    count: int,
    today: datetime.date,
) -> None:
    first, last = datetime.date(plan["start_year"], 1, 1), datetime.date(plan["end_year"], 12, 31)
    earlier = list(predecessor["commitments"]) if predecessor else []
    continued = rng.sample(earlier, min(len(earlier), round(count * 0.25)))
    for number in range(1, count + 1):
        carriers = rng.sample(pool, min(len(pool), 1 + rng.randint(0, 2)))
        commitment = data.add(
            Commitment,
            {
                "id": ids.take(Commitment),
                "plan_id": plan["id"],
                "axis_id": plan["axes"][(number - 1) * len(plan["axes"]) // count],
                "number": number,
                "title": f"{rng.choice(ACTIONS)} {rng.choice(THEMES)}, n° {number} {MARK}",
                "title_en": f"Synthetic commitment {number} {MARK}",
                "slug": f"engagement-synthetique-{number}",
                "summary": SUMMARY,
                "description": " ".join(
                    f"{rng.choice(ACTIONS)} {rng.choice(THEMES)} {MARK}." for _ in range(rng.randint(3, 8))
                ),
                "ogp_values": sorted(rng.sample(CommitmentOgpValue.values, rng.randint(1, 3))),
                "start_date": first + datetime.timedelta(days=rng.randint(0, 120)),
                "end_date": last - datetime.timedelta(days=rng.randint(0, 90)),
                "predecessor_id": continued.pop() if continued else None,
                "updated_by_id": carriers[0]["id"],
                "plan_status": plan["status"],
                "milestones": [],
                "indicators": [],
            },
        )
        plan["commitments"].append(commitment["id"])
        for position, administration in enumerate(carriers):
            role = CarrierRole.LEAD if position == 0 else CarrierRole.SUPPORT
            data.add(
                Carrier,
                {
                    "id": ids.take(Carrier),
                    "commitment_id": commitment["id"],
                    "administration_id": administration["id"],
                    "role": role,
                },
            )
        _milestones(data, ids, rng, commitment, first, last, today)


def _milestones(
    data: DataSet,
    ids: Ids,
    rng: random.Random,
    commitment: dict,
    first: datetime.date,
    last: datetime.date,
    today: datetime.date,
) -> None:
    """0 to 6 milestones over the plan's period: most past ones done, some late, a few done early."""
    dues = sorted(_day_between(rng, first + datetime.timedelta(days=60), last) for _ in range(rng.randint(0, 6)))
    # Done by yesterday at the latest: the moments stored from these days are never in the future.
    yesterday = today - datetime.timedelta(days=1)
    for position, due in enumerate(dues):
        completed = None
        if due < today and rng.random() < 0.7:
            completed = min(yesterday, max(first, due + datetime.timedelta(days=rng.randint(-60, 30))))
        elif due >= today and rng.random() < 0.15:
            completed = _day_between(rng, first, yesterday)
        milestone = data.add(
            Milestone,
            {
                "id": ids.take(Milestone),
                "commitment_id": commitment["id"],
                "title": f"{MILESTONES[position % len(MILESTONES)]} {MARK}",
                "due_date": due,
                "completed_on": completed,
                "weight": rng.randint(1, 3),
                "position": position,
            },
        )
        commitment["milestones"].append(milestone)


def _rounded(value: float, decimals: int) -> Decimal:
    return Decimal(f"{value:.{decimals}f}")


def _indicators(
    data: DataSet,
    ids: Ids,
    rng: random.Random,
    commitment: dict,
    count: int,
    value_counts: Iterator[int],
    today: datetime.date,
) -> None:
    """Manual indicators with a baseline, a target on the side of their direction, and ~100 values each."""
    start = commitment["start_date"]
    last_day = min(commitment["end_date"], today - datetime.timedelta(days=1)).toordinal()
    offset = rng.randrange(len(INDICATOR_KINDS))
    for index in range(count):
        kind = INDICATOR_KINDS[(offset + index) % len(INDICATOR_KINDS)]
        is_percent = kind.unit == "%"
        baseline = _rounded(rng.uniform(*kind.baseline), kind.decimals)
        if kind.direction == IndicatorDirection.DECREASE:
            target = _rounded(float(baseline) * rng.uniform(0.3, 0.8), kind.decimals)
        elif is_percent:
            target = _rounded(rng.uniform(float(baseline) + 10, 100), kind.decimals)
        else:
            target = _rounded(float(baseline) * rng.uniform(1.5, 4), kind.decimals)
        values = next(value_counts)
        first = min(start.toordinal(), last_day - values + 1)
        indicator = data.add(
            Indicator,
            {
                "id": ids.take(Indicator),
                "commitment_id": commitment["id"],
                "name": kind.name + (f" n° {index + 1}" if index >= len(INDICATOR_KINDS) else "") + f" {MARK}",
                "unit": kind.unit,
                "description": "Indicateur synthétique, généré pour les tests de charge.",
                # One in twenty has no baseline yet, one in ten no target: their progress is unknown.
                "baseline_value": baseline if rng.random() > 0.05 else None,
                "baseline_date": start,
                "target_value": target if rng.random() > 0.1 else None,
                "target_date": commitment["end_date"],
                "direction": kind.direction,
                "maximum_value": Decimal(100) if is_percent else None,
                "is_public": rng.random() > 0.05,
            },
        )
        if indicator["baseline_value"] is None:
            indicator["baseline_date"] = None
        if indicator["target_value"] is None:
            indicator["target_date"] = None
        series = ValueSeries(
            indicator_id=indicator["id"],
            count=values,
            first=first,
            step=max(1.0, (last_day - first) / (values - 1)) if values > 1 else 0.0,
            base=float(baseline),
            final=float(baseline + (target - baseline) * Decimal(str(round(rng.uniform(-0.1, 1.15), 2)))),
            noise=abs(float(target - baseline)) * 0.1,
            high=100.0 if is_percent else float("inf"),
            number_format=f".{kind.decimals}f",
            origin=IndicatorValueOrigin.IMPORT if rng.random() < 0.2 else IndicatorValueOrigin.MANUAL,
        )
        if values:
            series.latest = format(min(max(series.final, 0.0), series.high), series.number_format)
            latest_day = datetime.date.fromordinal(first + int((values - 1) * series.step))
            indicator["latest"], indicator["latest_at"] = Decimal(series.latest), _moment(latest_day)
        data.series.append(series)
        commitment["indicators"].append(indicator)


def _store_progress(rng: random.Random, commitment: dict) -> None:
    """Progress, rule, completion and freshness, by the published rules (commitments/progress.py)."""
    milestones = commitment.pop("milestones")
    indicators = commitment.pop("indicators")
    progress = commitment_progress(
        milestones=[(m["weight"], m["completed_on"] is not None) for m in milestones],
        indicator_shares=[
            indicator_progress(baseline=i["baseline_value"], target=i["target_value"], latest=i.get("latest"))
            for i in indicators
            if i["is_public"]
        ],
    )
    commitment["progress"], commitment["progress_rule"] = progress.percent, progress.rule
    commitment["completion"] = _completion(rng, commitment.pop("plan_status"), progress.percent)
    moments = [i.pop("latest_at") for i in indicators if "latest_at" in i]
    moments += [_moment(m["completed_on"]) for m in milestones if m["completed_on"]]
    commitment["updated_at"] = max(moments, default=None)
    for indicator in indicators:
        indicator.pop("latest", None)


def _forums_and_contributions(
    data: DataSet, ids: Ids, rng: random.Random, sizes: Sizes, commitments: list[dict], today: datetime.date
) -> None:
    """Forums on a few commitments each, and citizens' contributions, mostly published, many answered."""
    now = _moment(today - datetime.timedelta(days=1))
    first_number = (Forum.objects.aggregate(last=Max("number"))["last"] or 0) + 1
    leads = {row["commitment_id"]: row["administration_id"] for row in data.rows[Carrier] if row["role"] == "lead"}
    forums = []
    for number in range(first_number, first_number + sizes.forums):
        day = _day_between(rng, datetime.date(today.year - 14, 1, 1), today + datetime.timedelta(days=60))
        forum = data.add(
            Forum,
            {
                "id": ids.take(Forum),
                "number": number,
                "title": f"{TITLE_PREFIX}Open d'État n° {number}",
                "date": day,
                "start_time": datetime.time(9, 30),
                "end_time": datetime.time(12, 30),
                "place": "Lieu synthétique",
                "theme": f"{rng.choice(THEMES).capitalize()} {MARK}",
                "organisers": ["Organisateur synthétique"],
            },
        )
        forums.append(forum["id"])
        for commitment in rng.sample(commitments, min(len(commitments), rng.randint(3, 10))):
            data.add(
                Forum.commitments.through,
                {"id": ids.take(Forum.commitments.through), "forum_id": forum["id"], "commitment_id": commitment["id"]},
            )
    kinds = [ContributionKind.QUESTION] * 3 + [ContributionKind.IDEA, ContributionKind.COMMENT]
    for number in range(1, sizes.contributions + 1):
        commitment = rng.choice(commitments)
        created = _moment(_day_between(rng, commitment["start_date"], today)) - datetime.timedelta(days=2)
        state = rng.choices(list(ContributionState), weights=[10, 85, 5])[0]
        published = created + datetime.timedelta(days=1) if state == ContributionState.PUBLISHED else None
        contribution = data.add(
            Contribution,
            {
                "id": ids.take(Contribution),
                "kind": rng.choice(kinds),
                "commitment_id": commitment["id"],
                "forum_id": rng.choice(forums) if forums and rng.random() < 0.2 else None,
                "body": f"Contribution synthétique n° {number} sur {rng.choice(THEMES)} : où en est cet engagement ?",
                "display_name": f"Citoyen synthétique {number}" if rng.random() < 0.5 else "",
                "state": state,
                "rejection_reason": "Rejet synthétique : hors sujet." if state == ContributionState.REJECTED else "",
                "created_at": created,
                "published_at": published,
                "moderated_at": None if state == ContributionState.PENDING else created + datetime.timedelta(days=1),
                # No e-mail address, and the administrations already told: no notice is ever sent for them.
                "answerers_told_at": published,
            },
        )
        if published and rng.random() < 0.6:
            data.add(
                Answer,
                {
                    "id": ids.take(Answer),
                    "contribution_id": contribution["id"],
                    "administration_id": leads[commitment["id"]],
                    "body": "Réponse synthétique : l'engagement suit son cours.",
                    "answered_at": min(now, published + datetime.timedelta(days=rng.randint(1, 60))),
                },
            )


def value_rows(series: list[ValueSeries], *, first_id: int, seed: int) -> Iterator[tuple]:
    """The values of every indicator, in the columns of VALUE_COLUMNS; the last of each is `latest`."""
    rng, pk = random.Random(seed), first_id
    for item in series:
        steps = item.count - 1
        for k in range(item.count):
            day = datetime.date.fromordinal(item.first + int(k * item.step))
            if k == steps:
                value = item.latest
            else:
                drift = item.base + (item.final - item.base) * k / steps + item.noise * (rng.random() - 0.5)
                value = format(min(max(drift, 0.0), item.high), item.number_format)
            yield (pk, item.indicator_id, day, value, item.origin, VALUE_NOTE, _moment(day))
            pk += 1


VALUE_COLUMNS = ["id", "indicator_id", "date", "value", "origin", "note", "recorded_at"]
# The objects whose history the public timeline shows (commitments/timeline.py); plans, axes and
# administrations keep none here, as no public page reads theirs.
HISTORY = [Commitment, Milestone, Carrier, Indicator, IndicatorValue]


def history_rows(data: DataSet, ids: Ids, *, first_value_id: int, today: datetime.date) -> dict[type, list[dict]]:
    """The history rows of the data set, by historical model, as the services would have written them."""
    rows: dict[type, list[dict]] = {model.history.model: [] for model in HISTORY}
    yesterday = today - datetime.timedelta(days=1)
    commitments = {row["id"]: row for row in data.rows.get(Commitment, [])}
    leads = {
        row["commitment_id"]: row["administration_id"] for row in data.rows.get(Carrier, []) if row["role"] == "lead"
    }

    def created(commitment_id: int) -> datetime.datetime:
        return _moment(min(commitments[commitment_id]["start_date"], yesterday))

    def add(model: type[models.Model], row: dict, kind: str, at: datetime.datetime, commitment_id: int) -> None:
        historical = model.history.model
        history_id = ids.take(historical)
        rows[historical].append(
            {
                **row,
                "history_id": history_id,
                "history_type": kind,
                # Spread over the working day, as people enter things: thousands of rows at one instant would
                # make the latest changes a sort of all of them, which no live database asks for.
                "history_date": at + datetime.timedelta(seconds=history_id % WORKING_DAY),
                "history_change_reason": HISTORY_REASON,
                "history_administration_id": leads.get(commitment_id),
            }
        )

    def added_then_changed(
        model: type[models.Model], row: dict, commitment_id: int, changed: dict, at: datetime.datetime | None
    ) -> None:
        """A "+" row with `changed`'s fields as they were at first, then, if later, a "~" row as they are."""
        start = created(commitment_id)
        if at is None or at <= start:
            add(model, row, "+", start, commitment_id)
            return
        add(model, {**row, **changed}, "+", start, commitment_id)
        add(model, row, "~", at, commitment_id)

    for commitment in commitments.values():
        first = {"completion": CommitmentCompletion.NOT_STARTED}
        at = commitment["updated_at"] if commitment["completion"] != CommitmentCompletion.NOT_STARTED else None
        added_then_changed(Commitment, commitment, commitment["id"], first, at)
    for milestone in data.rows.get(Milestone, []):
        done = milestone["completed_on"]
        at = _moment(done) if done else None
        added_then_changed(Milestone, milestone, milestone["commitment_id"], {"completed_on": None}, at)
    for carrier in data.rows.get(Carrier, []):
        add(Carrier, carrier, "+", created(carrier["commitment_id"]), carrier["commitment_id"])
    indicators = {row["id"]: row for row in data.rows.get(Indicator, [])}
    for indicator in indicators.values():
        add(Indicator, indicator, "+", created(indicator["commitment_id"]), indicator["commitment_id"])
    value_id = first_value_id
    for item in data.series:
        value_id += item.count
        if not item.count:
            continue
        day = datetime.date.fromordinal(item.first + int((item.count - 1) * item.step))
        value = {
            "id": value_id - 1,  # value_rows numbers each series' values in turn, the latest last
            "indicator_id": item.indicator_id,
            "date": day,
            "value": Decimal(item.latest),
            "origin": item.origin,
            "note": VALUE_NOTE,
            "recorded_at": _moment(day),
        }
        add(IndicatorValue, value, "+", _moment(day), indicators[item.indicator_id]["commitment_id"])
    return rows


# Parents before children, so that each foreign key finds its row.
ORDER = [
    Administration,
    ActionPlan,
    Axis,
    Commitment,
    Carrier,
    Milestone,
    Indicator,
    Forum,
    Forum.commitments.through,
    Contribution,
    Answer,
]


def generate_scale_data(
    *,
    sizes: Sizes | None = None,
    seed: int = 0,
    replace: bool = False,
    today: datetime.date | None = None,
    report: Callable[[Step], None] = lambda step: None,
) -> dict[str, int]:
    """Write the synthetic data set, all of it or nothing; returns the rows written per table."""
    sizes = sizes or Sizes()
    today = today or timezone.localdate()
    with transaction.atomic():
        check_database(replace=replace)
        if replace:
            delete_synthetic_data(report)
        started = time.monotonic()
        data = build(sizes, seed=seed, today=today)
        report(Step(_("(prepared in memory)"), sum(map(len, data.rows.values())), time.monotonic() - started))
        written = {model._meta.db_table: _write_dicts(model, data.rows.get(model, []), report) for model in ORDER}
        first_value_id = _next_id(IndicatorValue)
        rows = value_rows(data.series, first_id=first_value_id, seed=seed + 1)
        written[IndicatorValue._meta.db_table] = _write(IndicatorValue, VALUE_COLUMNS, rows, report)
        history = history_rows(data, Ids(), first_value_id=first_value_id, today=today)
        for model, model_rows in history.items():
            written[model._meta.db_table] = _write_dicts(model, model_rows, report)
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), [*ORDER, IndicatorValue, *history]):
                cursor.execute(statement)
        committing = time.monotonic()
    # PostgreSQL checks the deferred foreign keys of the millions of rows now.
    report(Step(_("(commit)"), sum(written.values()), time.monotonic() - committing))
    return written
