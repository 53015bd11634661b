"""Two administrations, each carrying one commitment, and the people of the workspace around them.

Shared by the update page's tests and the permission matrix: what one administration's editor may
touch and what they must never touch, side by side.
"""

import datetime
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from accounts.models import MembershipRole, User
from commitments.models import Administration, Commitment, Milestone
from indicators.models import Indicator, IndicatorRefresh, IndicatorValue
from tests.factories import (
    AdministrationFactory,
    CarrierFactory,
    CommitmentFactory,
    ForumFactory,
    IndicatorFactory,
    IndicatorValueFactory,
    MembershipFactory,
    MilestoneFactory,
    UserFactory,
)


@dataclass
class Side:
    """What one administration carries."""

    administration: Administration
    editor: User
    commitment: Commitment
    milestone: Milestone
    indicator: Indicator
    value: IndicatorValue


@dataclass
class World:
    a: Side
    b: Side
    coordinator: User
    superuser: User


def _side(name: str) -> Side:
    administration = AdministrationFactory(name=f"Administration {name}")
    editor = MembershipFactory(
        administration=administration, role=MembershipRole.EDITOR, user__username=f"editor-{name}", user__is_staff=True
    ).user
    commitment = CommitmentFactory(title=f"Engagement de {name}")
    CarrierFactory(commitment=commitment, administration=administration)
    milestone = MilestoneFactory(commitment=commitment, due_date=datetime.date(2030, 1, 1))
    indicator = IndicatorFactory(commitment=commitment, minimum_value=Decimal(0), maximum_value=Decimal(1000))
    value = IndicatorValueFactory(indicator=indicator, date=datetime.date(2020, 1, 1), value=Decimal(10))
    IndicatorRefresh.objects.create(
        indicator=indicator, started_at=timezone.now(), duration_ms=5, outcome="unchanged", trigger="admin"
    )
    return Side(administration, editor, commitment, milestone, indicator, value)


def build_world() -> World:
    a, b = _side("A"), _side("B")
    coordinator = MembershipFactory(
        role=MembershipRole.COORDINATOR, user__username="coordinator", user__is_staff=True
    ).user
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    forum = ForumFactory()
    forum.commitments.add(a.commitment)
    return World(a=a, b=b, coordinator=coordinator, superuser=superuser)


def database_state() -> str:
    """A fingerprint of every row the application stores, history included: equal before and after a
    refused request means it changed nothing. Sessions and logs of sign-ins are left out."""
    left_out = {"sessions", "admin", "axes", "contenttypes"}
    digest = hashlib.sha256()
    for model in sorted(apps.get_models(), key=lambda m: m._meta.label):
        if model._meta.app_label in left_out:
            continue
        rows: list[Any] = list(model._default_manager.order_by("pk").values())
        digest.update(model._meta.label.encode())
        digest.update(json.dumps(rows, cls=DjangoJSONEncoder, sort_keys=True, default=str).encode())
    return digest.hexdigest()
