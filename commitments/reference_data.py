"""The reference data of the real plans: the file's format, its validation, and its loading.

Loading is safe to repeat. A field is (re)written from the file only when nobody changed it
since the loader last wrote it, which the history tells; what administrations record
(completion, notes, milestones, indicator values) is never touched. See docs/adr/0002.
"""

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _
from rest_framework import serializers

from commitments.models import (
    ActionPlan,
    ActionPlanStatus,
    Administration,
    AdministrationKind,
    Axis,
    Carrier,
    CarrierRole,
    Commitment,
)
from commitments.services import save_with_history
from forums.models import Forum

DATA_FILE = Path(__file__).resolve().parent / "data" / "reference.json"

# Recorded as the reason of every change the loader makes: the public history shows it, and the
# loader finds its own last writes by it. A stored marker, so it is not translated.
LOAD_REASON = "Chargement des données de référence"


class ReferenceDataError(Exception):
    def __init__(self, messages: list[str]) -> None:
        super().__init__("\n".join(messages))
        self.messages = messages


# --- The file's format --------------------------------------------------------------------------


class StrictSerializer(serializers.Serializer):
    """Refuses keys it does not know, so that a misspelt field is an error rather than lost data."""

    def to_internal_value(self, data: Any) -> dict:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({key: [_("Unknown field.")] for key in unknown})
        return super().to_internal_value(data)


def _sources() -> serializers.ListField:
    return serializers.ListField(child=serializers.CharField(), min_length=1)


OGP_ID = r"^[A-Z]{2,3}[0-9]{4}$"


class AdministrationEntry(StrictSerializer):
    slug = serializers.SlugField(max_length=120)
    name = serializers.CharField(max_length=300)
    name_is_official = serializers.BooleanField()
    name_en = serializers.CharField(max_length=300, allow_blank=True)
    short_name = serializers.CharField(max_length=50, allow_blank=True)
    kind = serializers.ChoiceField(choices=AdministrationKind.choices)
    website = serializers.URLField(allow_blank=True)
    sources = _sources()


class AxisEntry(StrictSerializer):
    number = serializers.IntegerField(min_value=1)
    title = serializers.CharField(max_length=300)
    title_is_official = serializers.BooleanField()
    title_en = serializers.CharField(max_length=300, allow_blank=True, required=False, default="")
    sources = _sources()


class CarrierEntry(StrictSerializer):
    administration = serializers.SlugField()
    role = serializers.ChoiceField(choices=CarrierRole.choices)


class CommitmentReference(StrictSerializer):
    plan = serializers.SlugField()
    number = serializers.IntegerField(min_value=1)


class SourcedEntry(StrictSerializer):
    """An item that names its sources, and says which weaker source it rests on when unverified."""

    is_verified = serializers.BooleanField()
    source_note = serializers.CharField(allow_blank=True)
    sources = _sources()

    def validate(self, data: dict) -> dict:
        if not data["is_verified"] and not data["source_note"]:
            raise serializers.ValidationError({"source_note": _("Required when the item is not verified.")})
        return data


class CommitmentEntry(SourcedEntry):
    number = serializers.IntegerField(min_value=1)
    ogp_id = serializers.RegexField(OGP_ID, allow_blank=True)
    other_ogp_ids = serializers.ListField(child=serializers.RegexField(OGP_ID))
    title = serializers.CharField(max_length=500)
    title_is_official = serializers.BooleanField()
    title_en = serializers.CharField(max_length=500, allow_blank=True)
    axis = serializers.IntegerField(min_value=1, allow_null=True)
    axis_is_inferred = serializers.BooleanField()
    carriers = CarrierEntry(many=True)
    carriers_note = serializers.CharField(allow_blank=True)
    predecessor = CommitmentReference(allow_null=True)

    def validate(self, data: dict) -> dict:
        data = super().validate(data)
        administrations = [carrier["administration"] for carrier in data["carriers"]]
        if len(administrations) != len(set(administrations)):
            raise serializers.ValidationError({"carriers": _("An administration is listed twice.")})
        return data


class PlanEntry(StrictSerializer):
    slug = serializers.SlugField(max_length=60)
    title = serializers.CharField(max_length=300)
    title_en = serializers.CharField(max_length=300, allow_blank=True)
    owner = serializers.CharField(max_length=200)
    start_year = serializers.IntegerField(min_value=1900, max_value=2200)
    end_year = serializers.IntegerField(min_value=1900, max_value=2200)
    published_on = serializers.DateField(allow_null=True)
    status = serializers.ChoiceField(choices=ActionPlanStatus.choices)
    document_url = serializers.URLField(allow_blank=True, max_length=500)
    predecessor = serializers.SlugField(allow_null=True)
    sources = _sources()
    axes = AxisEntry(many=True)
    commitments = CommitmentEntry(many=True)

    def validate(self, data: dict) -> dict:
        if data["end_year"] < data["start_year"]:
            raise serializers.ValidationError({"end_year": _("The last year cannot come before the first year.")})
        axis_numbers = [axis["number"] for axis in data["axes"]]
        if len(axis_numbers) != len(set(axis_numbers)):
            raise serializers.ValidationError({"axes": _("Two axes have the same number.")})
        numbers = [commitment["number"] for commitment in data["commitments"]]
        duplicates = sorted(number for number, count in Counter(numbers).items() if count > 1)
        if duplicates:
            raise serializers.ValidationError(
                {"commitments": _("Commitment numbers used twice: %(numbers)s.") % {"numbers": duplicates}}
            )
        for commitment in data["commitments"]:
            if commitment["axis"] is not None and commitment["axis"] not in axis_numbers:
                raise serializers.ValidationError(
                    {
                        "commitments": _("Commitment %(number)s refers to axis %(axis)s, which the plan does not have.")
                        % {"number": commitment["number"], "axis": commitment["axis"]}
                    }
                )
        return data


class ForumEntry(SourcedEntry):
    number = serializers.IntegerField(min_value=1, allow_null=True)
    date = serializers.DateField()
    start_time = serializers.TimeField(allow_null=True)
    title = serializers.CharField(max_length=300, allow_blank=True)
    theme = serializers.CharField(allow_blank=True)
    place = serializers.CharField(max_length=300, allow_blank=True)
    organisers = serializers.ListField(child=serializers.CharField())
    commitments = CommitmentReference(many=True)
    report_url = serializers.URLField(allow_blank=True, max_length=500)
    registration_url = serializers.URLField(allow_blank=True, max_length=500)


class ReferenceFile(StrictSerializer):
    format_version = serializers.ChoiceField(choices=[1])
    description = serializers.CharField()
    administrations = AdministrationEntry(many=True)
    plans = PlanEntry(many=True)
    forums = ForumEntry(many=True)

    def validate(self, data: dict) -> dict:
        """The references between items: every slug, plan and commitment named must exist once."""
        errors: list[str] = []
        administration_slugs = Counter(item["slug"] for item in data["administrations"])
        errors += [
            _("administrations: the slug “%(slug)s” is used twice.") % {"slug": s}
            for s, n in administration_slugs.items()
            if n > 1
        ]
        plan_slugs = Counter(plan["slug"] for plan in data["plans"])
        errors += [_("plans: the slug “%(slug)s” is used twice.") % {"slug": s} for s, n in plan_slugs.items() if n > 1]
        commitments = {(plan["slug"], c["number"]) for plan in data["plans"] for c in plan["commitments"]}
        ogp_ids = Counter(
            ogp_id
            for plan in data["plans"]
            for c in plan["commitments"]
            for ogp_id in [c["ogp_id"], *c["other_ogp_ids"]]
            if ogp_id
        )
        errors += [_("The OGP identifier %(id)s is used twice.") % {"id": i} for i, n in ogp_ids.items() if n > 1]
        earlier: set[str] = set()
        for plan in data["plans"]:
            # Oldest first, so that a predecessor is always loaded before what continues it.
            if plan["predecessor"] and plan["predecessor"] not in earlier:
                errors.append(
                    _("plans[%(plan)s].predecessor: no plan “%(slug)s” earlier in the file.")
                    % {"plan": plan["slug"], "slug": plan["predecessor"]}
                )
            for c in plan["commitments"]:
                where = f"plans[{plan['slug']}].commitments[{c['number']}]"
                for carrier in c["carriers"]:
                    if carrier["administration"] not in administration_slugs:
                        errors.append(
                            _("%(where)s.carriers: no administration “%(slug)s” in the file.")
                            % {"where": where, "slug": carrier["administration"]}
                        )
                reference = c["predecessor"]
                if reference and (
                    reference["plan"] not in earlier or (reference["plan"], reference["number"]) not in commitments
                ):
                    errors.append(
                        _("%(where)s.predecessor: no commitment %(number)s in a plan “%(plan)s” earlier in the file.")
                        % {"where": where, **reference}
                    )
            earlier.add(plan["slug"])
        for forum in data["forums"]:
            for reference in forum["commitments"]:
                if (reference["plan"], reference["number"]) not in commitments:
                    errors.append(
                        _("forums[%(date)s].commitments: no commitment %(number)s in plan “%(plan)s”.")
                        % {"date": forum["date"], **reference}
                    )
        if errors:
            raise serializers.ValidationError(errors)
        return data


def _item_label(item: Any) -> str:
    if isinstance(item, dict):
        for key in ("slug", "number", "date"):
            if item.get(key) is not None:
                return f" ({key}={item[key]})"
    return ""


def _flatten(errors: Any, raw: Any, path: str) -> list[str]:
    """Turn DRF's nested errors into one line per problem, naming the item and the field."""
    if isinstance(errors, dict):
        # DRF keys the errors of list items by their index, as a dict or as a list with gaps.
        items = errors.items()
    elif isinstance(errors, list) and not all(isinstance(error, str) for error in errors):
        items = ((index, value) for index, value in enumerate(errors) if value)
    else:
        messages = errors if isinstance(errors, list) else [errors]
        return [f"{path}: {message}" if path else str(message) for message in messages]
    lines = []
    for key, value in items:
        if isinstance(key, int):
            child = raw[key] if isinstance(raw, list) and key < len(raw) else None
            name = f"{path}[{key}]{_item_label(child)}"
        else:
            child = raw.get(key) if isinstance(raw, dict) else None
            name = path if key == "non_field_errors" else f"{path}.{key}" if path else key
        lines += _flatten(value, child, name)
    return lines


def read_reference_file(path: Path = DATA_FILE) -> dict:
    """Read and validate the data file; every problem is reported, naming the item and the field."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ReferenceDataError([_("Cannot read %(path)s: %(error)s") % {"path": path, "error": error}]) from error
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ReferenceDataError(
            [_("%(path)s is not valid JSON: %(error)s") % {"path": path, "error": error}]
        ) from error
    validator = ReferenceFile(data=raw)
    if not validator.is_valid():
        raise ReferenceDataError(_flatten(validator.errors, raw, ""))
    return validator.validated_data


# --- Loading --------------------------------------------------------------------------------------


@dataclass
class LoadReport:
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    kept: list[str] = field(default_factory=list)

    def count(self, outcome: str, instance: models.Model) -> None:
        getattr(self, outcome)[instance._meta.verbose_name_plural] += 1

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def _is_empty(value: Any) -> bool:
    return value in ("", None, [])


def _save(instance: models.Model) -> None:
    """Save from the loader; a refusal by the database's rules names the object and the field."""
    try:
        save_with_history(instance, by=None, reason=LOAD_REASON)
    except ValidationError as error:
        raise ReferenceDataError(
            [
                f"{instance._meta.verbose_name} « {instance} »: {field}: {' '.join(messages)}"
                for field, messages in error.message_dict.items()
            ]
        ) from error


def _sync(
    instance: models.Model, values: dict[str, Any], *, create_only: tuple[str, ...] = (), report: LoadReport
) -> None:
    """Create or update one object from the file without overwriting what someone else changed.

    On an existing object, a field follows the file if it still holds what the loader last wrote
    (or is empty); a field someone changed since is kept, and reported when it differs.
    """
    if instance.pk is None:
        for name, value in values.items():
            setattr(instance, name, value)
        _save(instance)
        report.count("created", instance)
        return
    last_load = instance.history.filter(history_change_reason=LOAD_REASON).order_by("-history_date").first()
    changes = {}
    for name, value in values.items():
        if name in create_only:
            continue
        attname = instance._meta.get_field(name).attname
        current = getattr(instance, attname)
        wanted = value.pk if isinstance(value, models.Model) else value
        if current == wanted:
            continue
        if _is_empty(current) or (last_load is not None and getattr(last_load, attname) == current):
            changes[name] = value
        else:
            report.kept.append(
                _("%(object)s: “%(field)s” was changed since the last load and is kept (file: %(value)s).")
                % {"object": instance, "field": name, "value": wanted}
            )
    if not changes:
        report.count("unchanged", instance)
        return
    for name, value in changes.items():
        setattr(instance, name, value)
    _save(instance)
    report.count("updated", instance)


def _unique_slug(title: str, taken: set[str]) -> str:
    base = slugify(title)[:80].rstrip("-") or "engagement"
    slug, suffix = base, 2
    while slug in taken:
        slug, suffix = f"{base}-{suffix}", suffix + 1
    return slug


def _load_plan(
    entry: dict,
    plans: dict[str, ActionPlan],
    commitments: dict[tuple[str, int], Commitment],
    administrations: dict[str, Administration],
    report: LoadReport,
) -> ActionPlan:
    """Load one plan with its axes, commitments and carriers; fills `commitments` as it goes."""
    plan = ActionPlan.objects.filter(slug=entry["slug"]).first() or ActionPlan(slug=entry["slug"])
    fields = ("title", "title_en", "owner", "start_year", "end_year", "published_on", "status", "document_url")
    values = {name: entry[name] for name in fields} | {"sources": entry["sources"]}
    values["predecessor"] = plans[entry["predecessor"]] if entry["predecessor"] else None
    _sync(plan, values, report=report)

    axes = {axis.number: axis for axis in plan.axes.all()}
    for axis_entry in entry["axes"]:
        axis = axes.get(axis_entry["number"]) or Axis(plan=plan, number=axis_entry["number"])
        _sync(axis, {k: v for k, v in axis_entry.items() if k != "number"}, report=report)
        axes[axis.number] = axis

    existing = {commitment.number: commitment for commitment in plan.commitments.all()}
    slugs = {commitment.slug for commitment in existing.values()}
    for item in entry["commitments"]:
        commitment = existing.get(item["number"])
        if commitment is None:
            commitment = Commitment(plan=plan, number=item["number"], slug=_unique_slug(item["title"], slugs))
            slugs.add(commitment.slug)
        values = {
            name: item[name]
            for name in (
                "ogp_id",
                "other_ogp_ids",
                "title",
                "title_is_official",
                "title_en",
                "axis_is_inferred",
                "carriers_note",
                "is_verified",
                "source_note",
                "sources",
            )
        }
        values["axis"] = axes[item["axis"]] if item["axis"] is not None else None
        reference = item["predecessor"]
        values["predecessor"] = commitments[(reference["plan"], reference["number"])] if reference else None
        _sync(commitment, values, report=report)
        _load_carriers(commitment, item["carriers"], administrations, report)
        commitments[(plan.slug, commitment.number)] = commitment
    return plan


def _load_carriers(
    commitment: Commitment, entries: list[dict], administrations: dict[str, Administration], report: LoadReport
) -> None:
    """Add the carriers the file names; one that someone removed since stays removed."""
    current = {carrier.administration_id: carrier for carrier in commitment.carriers.all()}
    for entry in entries:
        administration = administrations[entry["administration"]]
        carrier = current.get(administration.pk)
        if carrier is None:
            removed = Carrier.history.filter(
                commitment_id=commitment.pk, administration_id=administration.pk, history_type="-"
            ).exists()
            if removed:
                report.kept.append(
                    _(
                        "%(commitment)s: the carrier %(administration)s was removed since the last load; "
                        "it stays removed."
                    )
                    % {"commitment": commitment, "administration": administration}
                )
                continue
            carrier = Carrier(commitment=commitment, administration=administration)
        _sync(carrier, {"role": entry["role"]}, report=report)


def _load_forum(entry: dict, commitments: dict[tuple[str, int], Commitment], report: LoadReport) -> None:
    if entry["number"] is not None:
        forum = Forum.objects.filter(number=entry["number"]).first() or Forum(number=entry["number"])
    else:
        forum = Forum.objects.filter(number__isnull=True, date=entry["date"]).first() or Forum()
    _sync(forum, {k: v for k, v in entry.items() if k not in ("number", "commitments")}, report=report)
    wanted = {commitments[(ref["plan"], ref["number"])].pk for ref in entry["commitments"]}
    missing = wanted - set(forum.commitments.values_list("pk", flat=True))
    if missing:
        forum._history_user, forum._change_reason = None, LOAD_REASON
        forum.commitments.add(*missing)


@transaction.atomic
def load_reference_data(*, path: Path = DATA_FILE) -> LoadReport:
    """Load the reference plans, administrations and forums: all of it, or nothing on any error."""
    data = read_reference_file(path)
    report = LoadReport()

    administrations = {
        a.slug: a for a in Administration.objects.filter(slug__in=[e["slug"] for e in data["administrations"]])
    }
    for entry in data["administrations"]:
        administration = administrations.get(entry["slug"]) or Administration(slug=entry["slug"])
        _sync(administration, {k: v for k, v in entry.items() if k != "slug"}, report=report)
        administrations[administration.slug] = administration

    # The file lists plans oldest first (validated), so every predecessor is already loaded.
    plans: dict[str, ActionPlan] = {}
    commitments: dict[tuple[str, int], Commitment] = {}
    for entry in data["plans"]:
        plans[entry["slug"]] = _load_plan(entry, plans, commitments, administrations, report)
    for entry in data["forums"]:
        _load_forum(entry, commitments, report)
    return report
