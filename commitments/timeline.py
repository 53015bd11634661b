"""The public history: what changed, from what to what, when, for which administration, and why.

Read from django-simple-history's tables. Only public fields are shown, and nothing about
indicators that are not public; a change that touched no public field is left out.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from commitments.models import ActionPlan, Administration, Axis, Carrier, Commitment, Milestone
from commitments.templatetags.opengov import figure
from indicators.models import Indicator, IndicatorValue

PUBLIC_FIELDS: dict[type[models.Model], list[str]] = {
    Commitment: [
        "title",
        "title_en",
        "axis",
        "summary",
        "description",
        "ogp_id",
        "completion",
        "progress_note",
        "start_date",
        "end_date",
        "predecessor",
    ],
    Milestone: ["title", "due_date", "completed_on", "weight", "evidence_url"],
    Carrier: ["administration", "role"],
    Indicator: ["name", "unit", "baseline_value", "baseline_date", "target_value", "target_date", "source_url"],
    IndicatorValue: ["date", "value", "note"],
}


# What the timeline reads of the objects history rows point to: what the pages, the feed and the admin's
# timeline write of them (a commitment's plan, number and title; an administration's name; an indicator's
# name). Not their texts and lists, which at the OGP scale were most of what the latest changes read.
LABEL_COLUMNS: dict[type[models.Model], tuple[str, ...]] = {
    Axis: ("number", "title"),
    Commitment: ("number", "title", "plan__slug"),
    Administration: ("name", "name_en", "short_name"),
    Indicator: ("name", "commitment"),
}
# The columns of a history row that say who changed what, when and why.
HISTORY_COLUMNS = ("id", "history_id", "history_date", "history_type", "history_change_reason", "history_user")


def _history(model: type[models.Model]) -> models.QuerySet:
    """A model's history rows with the columns the timeline compares or names, not the others."""
    columns = {*HISTORY_COLUMNS, "history_administration", *PUBLIC_FIELDS[model]}
    parent = {IndicatorValue: "indicator", Commitment: None}.get(model, "commitment")
    return model.history.only(*columns, *([parent] if parent else []))


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: str
    new: str


@dataclass
class Change:
    at: datetime.datetime
    kind: str  # "+" created, "~" changed, "-" deleted, as django-simple-history writes them
    subject: str
    commitment_id: int
    administration_id: int | None
    reason: str
    fields: list[FieldChange] = field(default_factory=list)
    commitment: Commitment | None = None
    administration: Administration | None = None
    # Who made it: shown to coordinators in the admin, never on public pages.
    user_id: int | None = None
    user: Any = None
    # The history row and the raw values that changed, until _describe writes them as text.
    source: tuple[type[models.Model], Any, list[tuple[str, Any, Any]]] | None = field(
        default=None, repr=False, compare=False
    )

    @property
    def action(self) -> str:
        return {"+": _("added"), "~": _("changed"), "-": _("removed")}[self.kind]


class _Labels:
    """What history rows point to, read in one query per kind: the commitments, their plans, the axes, the
    administrations and the indicators named by the rows. The commitments and administrations the changes are
    about come in the same queries as those the rows name, so that the number of queries does not depend on
    which fields the latest changes happen to touch (issue 9: the same count on any data)."""

    def __init__(self, records: dict[type[models.Model], list[Any]]) -> None:
        wanted: dict[type[models.Model], set[int]] = defaultdict(set)
        for model, rows in records.items():
            for row in rows:
                wanted[Administration].add(row.history_administration_id)
                if model is Commitment:
                    wanted[Axis].add(row.axis_id)
                    wanted[Commitment].update((row.id, row.predecessor_id))
                elif model is IndicatorValue:
                    wanted[Indicator].add(row.indicator_id)
                else:
                    wanted[Commitment].add(row.commitment_id)
                if model is Carrier:
                    wanted[Administration].add(row.administration_id)
        ids = {model: wanted[model] - {None} for model in (Axis, Commitment, Administration, Indicator)}
        indicators = Indicator.objects.only(*LABEL_COLUMNS[Indicator]).in_bulk(ids[Indicator])
        # A value's commitment is its indicator's: read with the others.
        ids[Commitment] |= {indicator.commitment_id for indicator in indicators.values()}
        self.names = {
            Axis: Axis.objects.only(*LABEL_COLUMNS[Axis]).in_bulk(ids[Axis]),
            Commitment: Commitment.objects.select_related("plan")
            .only(*LABEL_COLUMNS[Commitment])
            .in_bulk(ids[Commitment]),
            Administration: Administration.objects.only(*LABEL_COLUMNS[Administration]).in_bulk(ids[Administration]),
            Indicator: indicators,
        }

    def related(self, model: type[models.Model], pk: int | None) -> Any:
        return self.names[model].get(pk)


def _display(model: type[models.Model], name: str, value: Any, labels: _Labels) -> str:
    if value in (None, ""):
        return "—"
    model_field = model._meta.get_field(name)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(model_field, models.ForeignKey):
        return str(labels.related(model_field.related_model, value) or "—")
    if isinstance(value, datetime.date):
        return date_format(value)
    if isinstance(value, Decimal):
        return figure(value)
    return str(value)


def _subject(model: type[models.Model], row: Any, labels: _Labels) -> str:
    if model is Commitment:
        return _("Commitment")
    if model is Milestone:
        return _("Milestone “%(title)s”") % {"title": row.title}
    if model is Carrier:
        return _("Carrying administration %(name)s") % {"name": labels.related(Administration, row.administration_id)}
    if model is Indicator:
        return _("Indicator “%(name)s”") % {"name": row.name}
    indicator = labels.related(Indicator, row.indicator_id)
    return _("Value of “%(indicator)s” on %(date)s") % {"indicator": indicator, "date": date_format(row.date)}


def _commitment_id(model: type[models.Model], row: Any, labels: _Labels) -> int | None:
    if model is Commitment:
        return row.id
    if model is IndicatorValue:
        indicator = labels.related(Indicator, row.indicator_id)
        return indicator.commitment_id if indicator else None
    return row.commitment_id


def _changes(records: dict[type[models.Model], list[Any]], labels: _Labels) -> list[Change]:
    """Turn history rows, each model's in order of object and date, into public changes, not yet described:
    which fields changed is known, their text is written by _describe for the changes shown only (issue 9:
    the latest changes read some 800 rows at the OGP scale to show 50)."""
    changes = []
    for model, rows in records.items():
        attnames = [(name, model._meta.get_field(name).attname) for name in PUBLIC_FIELDS[model]]
        previous: dict[int, Any] = {}
        for row in sorted(rows, key=lambda r: (r.id, r.history_date, r.history_id)):
            before = previous.get(row.id)
            previous[row.id] = row
            if row.history_type == "~" and before is None:
                continue  # its earlier rows were not read: nothing to compare with
            diff = []
            for name, attname in attnames:
                old = getattr(before, attname) if before is not None and row.history_type == "~" else None
                new = getattr(row, attname) if row.history_type != "-" else None
                if row.history_type == "-":
                    old = getattr(row, attname)
                if old == new or (row.history_type == "+" and new in (None, "")):
                    continue
                diff.append((name, old, new))
            commitment_id = _commitment_id(model, row, labels)
            if not diff or commitment_id is None:
                continue
            changes.append(
                Change(
                    at=row.history_date,
                    kind=row.history_type,
                    subject="",
                    commitment_id=commitment_id,
                    administration_id=row.history_administration_id,
                    reason=row.history_change_reason or "",
                    user_id=row.history_user_id,
                    source=(model, row, diff),
                )
            )
    return changes


def _describe(change: Change, labels: _Labels) -> Change:
    """Write what a change says: its subject, and each field's label, old and new value."""
    model, row, diff = change.source
    change.subject = _subject(model, row, labels)
    change.fields = [
        FieldChange(
            str(model._meta.get_field(name).verbose_name),
            _display(model, name, old, labels),
            _display(model, name, new, labels),
        )
        for name, old, new in diff
    ]
    return change


def _public_changes(records: dict[type[models.Model], list[Any]], limit: int | None = None) -> list[Change]:
    """The changes the rows make (the `limit` newest, if given), each with its commitment and administration;
    newest first."""
    labels = _Labels(records)
    changes = _changes(records, labels)
    for change in changes:
        change.commitment = labels.related(Commitment, change.commitment_id)
        change.administration = labels.related(Administration, change.administration_id)
    shown = sorted((c for c in changes if c.commitment), key=lambda c: c.at, reverse=True)[:limit]
    return [_describe(change, labels) for change in shown]


def _records(commitment_ids: Iterable[int], *, include_private: bool) -> dict[type[models.Model], list[Any]]:
    commitment_ids = list(commitment_ids)
    indicators = Indicator.objects.filter(commitment_id__in=commitment_ids)
    if not include_private:
        indicators = indicators.public()
    indicator_ids = list(indicators.values_list("pk", flat=True))
    return {
        Commitment: list(_history(Commitment).filter(id__in=commitment_ids)),
        Milestone: list(_history(Milestone).filter(commitment_id__in=commitment_ids)),
        Carrier: list(_history(Carrier).filter(commitment_id__in=commitment_ids)),
        Indicator: list(_history(Indicator).filter(id__in=indicator_ids)),
        IndicatorValue: list(_history(IndicatorValue).filter(indicator_id__in=indicator_ids)),
    }


def commitment_timeline(commitment: Commitment) -> list[Change]:
    """Every public change to a commitment, its milestones, carriers, indicators and values; newest first."""
    return _public_changes(_records([commitment.pk], include_private=False))


def plan_timeline(plan: ActionPlan) -> list[Change]:
    """Every change to a plan's commitments and their parts, private indicators included, with who made
    it: the coordinators' view in the admin, not a public page."""
    changes = _public_changes(_records(plan.commitments.values_list("pk", flat=True), include_private=True))
    users = get_user_model().objects.in_bulk({c.user_id for c in changes} - {None})
    for change in changes:
        change.user = users.get(change.user_id)
    return changes


def latest_changes(limit: int = 50) -> list[Change]:
    """The latest public changes across the site, newest first."""
    records = {}
    for model in PUBLIC_FIELDS:
        latest = model.history.order_by("-history_date", "-history_id")
        if model is Indicator:
            latest = latest.filter(id__in=Indicator.objects.public().values("pk"))
        if model is IndicatorValue:
            latest = latest.filter(indicator_id__in=Indicator.objects.public().values("pk"))
        # With the earlier rows of the same objects, to say what a change changed from; in one query, even
        # for a table without rows.
        records[model] = list(_history(model).filter(id__in=latest.values("id")[:limit]))
    return _public_changes(records, limit)
