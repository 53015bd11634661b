import datetime
from collections import Counter
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from commitments import services
from commitments.models import (
    ActionPlan,
    ActionPlanStatus,
    Administration,
    Axis,
    Carrier,
    CarrierRole,
    Commitment,
    CommitmentProgressRule,
    Milestone,
)
from commitments.scale_data import Sizes, generate_scale_data
from commitments.timeline import commitment_timeline, latest_changes
from forums.models import Answer, Contribution, Forum
from indicators.models import Indicator, IndicatorValue

pytestmark = pytest.mark.django_db

TINY = Sizes().scaled(0.002)
# Enough of everything for the shape to show, small enough to stay fast on SQLite.
SMALL = Sizes(
    owners=10,
    administrations=60,
    plans=30,
    commitments=200,
    indicators=800,
    values=16_000,
    forums=3,
    contributions=60,
)
EXPLANATION = "Générées pour les tests de charge : ces plans, engagements et chiffres ne sont pas réels."


def _generate(sizes: Sizes = TINY, **options: object) -> dict[str, int]:
    return generate_scale_data(sizes=sizes, today=timezone.localdate(), **options)


def _counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def _content() -> dict[str, list]:
    """What the data says, without its identifiers."""
    commitments = ("commitment__plan__slug", "commitment__number")
    return {
        "plans": list(ActionPlan.objects.order_by("slug").values_list("slug", "title", "status", "predecessor__slug")),
        "commitments": list(
            Commitment.objects.order_by("plan__slug", "number").values_list(
                "title", "axis__number", "progress", "progress_rule", "completion", "updated_at", "predecessor__slug"
            )
        ),
        "carriers": list(
            Carrier.objects.order_by(*commitments, "administration__slug").values_list("administration__slug", "role")
        ),
        "milestones": list(
            Milestone.objects.order_by(*commitments, "position").values_list("due_date", "completed_on")
        ),
        "values": list(
            IndicatorValue.objects.order_by(
                "indicator__commitment__plan__slug", "indicator__commitment__number", "indicator__name", "date"
            ).values_list("date", "value")
        ),
        "contributions": list(Contribution.objects.order_by("created_at", "body").values_list("body", "state")),
    }


def test_every_table_holds_the_sizes_asked_for() -> None:
    written = _generate()

    expected = Sizes(
        owners=1, administrations=3, plans=1, commitments=20, indicators=80, values=8000, forums=1, contributions=40
    )
    assert expected == TINY
    counts = {
        ActionPlan: TINY.plans,
        Administration: TINY.administrations,
        Commitment: TINY.commitments,
        Indicator: TINY.indicators,
        IndicatorValue: TINY.values,
        Forum: TINY.forums,
        Contribution: TINY.contributions,
    }
    assert {model: model.objects.count() for model in counts} == counts
    assert ActionPlan.objects.values("owner").distinct().count() == TINY.owners
    tables = [*counts, Axis, Carrier, Milestone, Answer, Forum.commitments.through]
    tables += [model.history.model for model in (Commitment, Milestone, Carrier, Indicator, IndicatorValue)]
    assert written == {model._meta.db_table: model.objects.count() for model in tables}


def test_the_data_has_the_shape_of_real_plans() -> None:
    today = datetime.date(2026, 6, 15)
    generate_scale_data(sizes=SMALL, today=today, seed=3)

    plans = ActionPlan.objects.all()
    assert {plan.axes.count() for plan in plans} <= {3, 4, 5}
    assert ActionPlan.objects.filter(predecessor__isnull=False).count() == SMALL.plans - SMALL.owners
    assert len(set(plans.values_list("status", flat=True))) >= 3
    assert {ActionPlanStatus.CLOSED, ActionPlanStatus.IN_PROGRESS} <= set(plans.values_list("status", flat=True))
    for commitment in Commitment.objects.prefetch_related("carriers", "milestones"):
        roles = Counter(carrier.role for carrier in commitment.carriers.all())
        assert roles[CarrierRole.LEAD] == 1 and roles[CarrierRole.SUPPORT] <= 2
        assert len(commitment.milestones.all()) <= 6
        assert commitment.axis.plan_id == commitment.plan_id
    assert Milestone.objects.done().exists() and Milestone.objects.late(today).exists()
    assert Commitment.objects.late(today).exists() and Commitment.objects.filter(predecessor__isnull=False).exists()
    per_commitment = Counter(Indicator.objects.values_list("commitment_id", flat=True))
    assert set(per_commitment.values()) == {SMALL.indicators // SMALL.commitments}
    per_indicator = Counter(IndicatorValue.objects.values_list("indicator_id", flat=True)).values()
    average = SMALL.values / SMALL.indicators
    assert 0.4 * average <= min(per_indicator) and max(per_indicator) <= 1.6 * average
    # Each owner's carriers come from its own administrations, about ten of them.
    for owner in plans.values_list("owner", flat=True).distinct():
        carriers = Carrier.objects.filter(commitment__plan__owner=owner)
        assert carriers.values("administration").distinct().count() <= SMALL.administrations // SMALL.owners * 1.3 + 1


def test_everything_generated_says_it_is_synthetic() -> None:
    _generate()

    assert all(
        plan.is_synthetic and plan.title.startswith("Données synthétiques — ") for plan in ActionPlan.objects.all()
    )
    assert all(plan.owner.startswith("Membre synthétique ") for plan in ActionPlan.objects.all())
    for administration in Administration.objects.all():
        assert administration.is_synthetic and administration.slug.startswith("synthetique-")
        assert administration.name.startswith("Administration synthétique ")
    assert all("(synthétique)" in title for title in Commitment.objects.values_list("title", flat=True))
    assert all("(synthétique)" in name for name in Indicator.objects.values_list("name", flat=True))
    assert set(IndicatorValue.objects.values_list("note", flat=True)) == {"Valeur synthétique"}
    assert all(forum.title.startswith("Données synthétiques — ") for forum in Forum.objects.all())
    assert all("synthétique" in body for body in Contribution.objects.values_list("body", flat=True))


def test_a_database_with_real_data_is_refused_and_left_as_it_was(reference_data: None) -> None:
    before = _counts()

    for options in ({}, {"replace": True}):
        with pytest.raises(CommandError, match="données réelles") as refusal:
            call_command("generate_scale_data", scale=0.001, stdout=StringIO(), **options)
        assert refusal.value.returncode == 1

    assert _counts() == before
    assert not ActionPlan.objects.filter(is_synthetic=True).exists()


def test_synthetic_data_already_there_is_kept_unless_replace_is_asked() -> None:
    _generate(seed=1)
    first, counts = _content(), _counts()

    with pytest.raises(CommandError, match="déjà des données synthétiques"):
        call_command("generate_scale_data", scale=0.002, stdout=StringIO())
    assert (_content(), _counts()) == (first, counts)

    call_command("generate_scale_data", scale=0.002, seed=2, replace=True, stdout=StringIO())
    sized = {ActionPlan: TINY.plans, Administration: TINY.administrations, IndicatorValue: TINY.values}
    assert {model: model.objects.count() for model in sized} == sized
    assert _content() != first


def test_the_same_seed_gives_the_same_data() -> None:
    _generate(seed=5)
    first = _content()
    _generate(seed=5, replace=True)
    again = _content()
    _generate(seed=6, replace=True)

    assert again == first
    assert _content() != first


def test_stored_progress_is_what_the_published_rule_computes() -> None:
    generate_scale_data(sizes=SMALL, today=timezone.localdate(), seed=4)
    stored = {c.pk: (c.progress, c.progress_rule) for c in Commitment.objects.all()}

    recomputed = {}
    for commitment in Commitment.objects.all()[:: len(stored) // 40]:
        progress = services.refresh_progress(commitment=commitment)
        recomputed[commitment.pk] = (progress.percent, progress.rule)

    assert recomputed == {pk: stored[pk] for pk in recomputed}
    rules = Counter(rule for _, rule in stored.values())
    assert rules[CommitmentProgressRule.MILESTONES] and rules[CommitmentProgressRule.INDICATORS]


def test_what_was_written_keeps_the_models_rules() -> None:
    generate_scale_data(sizes=SMALL, today=timezone.localdate(), seed=8)
    now = timezone.now()

    # The foreign keys PostgreSQL would only check at the commit, which a test never reaches.
    connection.check_constraints()
    for model in (ActionPlan, Axis, Administration, Commitment, Carrier, Milestone, Indicator, IndicatorValue):
        for instance in model.objects.order_by("?")[:15]:
            instance.full_clean()
    assert not Milestone.objects.filter(completed_on__gte=timezone.localdate()).exists()
    assert not IndicatorValue.objects.filter(date__gte=timezone.localdate()).exists()
    assert not IndicatorValue.objects.filter(recorded_at__gt=now).exists()
    assert not Commitment.objects.filter(updated_at__gt=now).exists()
    assert not Contribution.objects.filter(published_at__gt=now).exists()
    for indicator in Indicator.objects.prefetch_related("values"):
        assert not any(indicator.bounds_error(value.value) for value in indicator.values.all())


def test_pages_say_the_data_is_synthetic(client: Client) -> None:
    _generate()
    plan = ActionPlan.objects.get()
    indicator = Indicator.objects.public().select_related("commitment__plan").first()
    commitment = indicator.commitment
    pages = [
        plan.get_absolute_url(),
        commitment.get_absolute_url(),
        indicator.get_absolute_url(),
        Administration.objects.first().get_absolute_url(),
    ]

    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert EXPLANATION in response.content.decode(), url
    home = client.get("/").content.decode()
    assert '<p class="fr-badge fr-badge--warning fr-badge--no-icon" title="' + EXPLANATION in home
    history = client.get(commitment.get_absolute_url() + "historique/").content.decode()
    assert "Historique synthétique, généré pour les tests de charge" in history


def test_the_api_says_the_data_is_synthetic(client: Client) -> None:
    _generate()
    plan = ActionPlan.objects.get()

    assert client.get(f"/api/v1/plans/{plan.slug}/").json()["is_synthetic"] is True
    for resource in ("axes", "commitments", "milestones", "indicators"):
        results = client.get(f"/api/v1/{resource}/").json()["results"]
        assert results and all(item["plan_is_synthetic"] is True for item in results), resource
    assert all(item["is_synthetic"] for item in client.get("/api/v1/administrations/").json()["results"])


def test_real_plans_carry_no_synthetic_mark(reference_data: None, client: Client) -> None:
    page = client.get("/plans/2018-2020/").content.decode()

    assert EXPLANATION not in page and "og-synthetic" not in page
    assert client.get("/api/v1/plans/2018-2020/").json()["is_synthetic"] is False
    commitments = client.get("/api/v1/commitments/?plan=2018-2020").json()["results"]
    assert not any(item["plan_is_synthetic"] for item in commitments)


def test_the_command_reports_each_table_with_its_rows_and_time() -> None:
    output = StringIO()

    call_command("generate_scale_data", scale=0.001, values=3000, seed=9, stdout=output)

    lines = output.getvalue().splitlines()
    assert any(line.startswith("indicators_indicatorvalue : 3000 lignes, ") for line in lines)
    assert any(line.startswith("commitments_commitment : 10 lignes, ") for line in lines)
    assert lines[-1].startswith("Données synthétiques écrites : 3")
    assert IndicatorValue.objects.count() == 3000


def test_sizes_that_cannot_make_a_data_set_are_refused() -> None:
    with pytest.raises(CommandError, match="administrations"):
        call_command("generate_scale_data", scale=0.01, owners=5, administrations=2, stdout=StringIO())

    assert not ActionPlan.objects.exists()


def test_a_tiny_scale_keeps_the_dates_in_the_plans_past() -> None:
    today = datetime.date(2026, 1, 2)
    generate_scale_data(sizes=TINY, today=today, seed=11)

    assert IndicatorValue.objects.filter(date__gte=today).count() == 0
    assert Counter(IndicatorValue.objects.values_list("indicator_id", "date")).most_common(1)[0][1] == 1


def test_the_history_is_what_the_services_would_have_written() -> None:
    today = datetime.date(2026, 6, 15)
    generate_scale_data(sizes=SMALL, today=today, seed=12)
    moment = datetime.datetime.combine(today, datetime.time(), tzinfo=datetime.UTC)

    # Every object the public timeline shows was added once; the latest value of each indicator was recorded.
    for model in (Commitment, Milestone, Carrier, Indicator):
        assert model.history.filter(history_type="+").count() == model.objects.count(), model
    assert IndicatorValue.history.count() == Indicator.objects.filter(values__isnull=False).distinct().count()
    for row in IndicatorValue.history.order_by("?")[:20]:
        assert row.date == IndicatorValue.objects.filter(indicator_id=row.indicator_id).latest("date").date
        assert IndicatorValue.objects.get(pk=row.id).value == row.value
    # Then a completion changed, milestones were done: the objects' last rows are what they are now.
    assert Commitment.history.filter(history_type="~").exists() and Milestone.history.filter(history_type="~").exists()
    for commitment in Commitment.objects.order_by("?")[:20]:
        assert commitment.history.latest().completion == commitment.completion
    for milestone in Milestone.objects.filter(completed_on__isnull=False).order_by("?")[:20]:
        assert milestone.history.latest().completed_on == milestone.completed_on
    for model in (Commitment, Milestone, Carrier, Indicator, IndicatorValue):
        assert not model.history.filter(history_date__gte=moment).exists(), model
        assert set(model.history.values_list("history_change_reason", flat=True)) == {
            "Historique synthétique, généré pour les tests de charge"
        }
    # The pages read it: what changed across the site, and on a commitment.
    changes = latest_changes()
    public_values = IndicatorValue.history.filter(indicator__is_public=True)
    newest = max(
        Commitment.history.latest("history_date").history_date, public_values.latest("history_date").history_date
    )
    assert len(changes) == 50 and changes[0].at == newest
    assert [change.at for change in changes] == sorted((change.at for change in changes), reverse=True)
    done = Milestone.objects.filter(completed_on__isnull=False).select_related("commitment").first()
    kinds = {(change.subject.split(" ")[0], change.kind) for change in commitment_timeline(done.commitment)}
    assert {("Engagement", "+"), ("Jalon", "+"), ("Jalon", "~")} <= kinds, kinds


def test_replacing_the_data_replaces_its_history() -> None:
    _generate(seed=13)
    history = {model: model.history.count() for model in (Commitment, Milestone, Carrier, Indicator, IndicatorValue)}

    _generate(seed=13, replace=True)

    assert {model: model.history.count() for model in history} == history
