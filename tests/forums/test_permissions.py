from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.models import MembershipRole
from forums.models import Contribution, ContributionState
from forums.permissions import answering_administrations, can_answer, can_moderate
from tests.factories import CarrierFactory, ContributionFactory, ForumFactory, MembershipFactory, UserFactory
from tests.workspace import World, build_world

pytestmark = pytest.mark.django_db

PEOPLE: dict[str, Callable[[World], Any]] = {
    "anonymous": lambda world: AnonymousUser(),
    "signed-in without a role": lambda world: UserFactory(is_staff=True),
    "editor of the carrier": lambda world: world.a.editor,
    "editor of another administration": lambda world: world.b.editor,
    "coordinator": lambda world: world.coordinator,
    "superuser": lambda world: world.superuser,
}


@pytest.fixture
def world() -> World:
    return build_world()


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("anonymous", False),
        ("signed-in without a role", False),
        ("editor of the carrier", False),
        ("editor of another administration", False),
        ("coordinator", True),
        ("superuser", True),
    ],
)
def test_only_coordinators_moderate(world: World, who: str, allowed: bool) -> None:
    assert can_moderate(PEOPLE[who](world)) is allowed


@pytest.mark.parametrize(
    ("who", "answers_for"),
    [
        ("anonymous", []),
        ("signed-in without a role", []),
        ("editor of the carrier", ["a"]),
        ("editor of another administration", []),
        ("coordinator", ["a", "support"]),
        ("superuser", ["a", "support"]),
    ],
)
def test_who_answers_a_question_on_a_commitment_and_for_whom(world: World, who: str, answers_for: list[str]) -> None:
    # A leads, a third administration supports: a coordinator may answer for either, the editor of A for A only.
    support = CarrierFactory(commitment=world.a.commitment, role="support").administration
    contribution = ContributionFactory(commitment=world.a.commitment)
    person = PEOPLE[who](world)
    sides = {"a": world.a.administration, "support": support}

    assert answering_administrations(person, contribution) == [sides[name] for name in answers_for]
    assert can_answer(person, contribution) is bool(answers_for)


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("anonymous", False),
        ("signed-in without a role", False),
        ("editor of the carrier", False),
        ("editor of another administration", False),
        ("coordinator", True),
        ("superuser", True),
    ],
)
def test_who_answers_a_contribution_on_a_forum_alone(world: World, who: str, allowed: bool) -> None:
    contribution = ContributionFactory(commitment=None, forum=ForumFactory())
    person = PEOPLE[who](world)

    administrations = answering_administrations(person, contribution)

    assert can_answer(person, contribution) is allowed
    if allowed:
        assert {world.a.administration, world.b.administration} <= set(administrations)
    else:
        assert administrations == []


@pytest.mark.parametrize("state", [ContributionState.PENDING, ContributionState.REJECTED])
@pytest.mark.parametrize("who", list(PEOPLE))
def test_nobody_answers_what_is_not_published(world: World, who: str, state: str) -> None:
    for subject in [{"commitment": world.a.commitment}, {"commitment": None, "forum": ForumFactory()}]:
        contribution = ContributionFactory(state=state, **subject)
        person = PEOPLE[who](world)

        assert can_answer(person, contribution) is False
        assert answering_administrations(person, contribution) == []


def test_a_deactivated_editor_or_coordinator_answers_nothing(world: World) -> None:
    contribution = ContributionFactory(commitment=world.a.commitment)
    for person in [world.a.editor, world.coordinator]:
        person.is_active = False
        person.save()

        assert not can_answer(person, contribution)
        assert answering_administrations(person, contribution) == []
        assert not can_moderate(person)


def test_an_editor_of_several_administrations_answers_for_each_that_carries(world: World) -> None:
    CarrierFactory(commitment=world.a.commitment, administration=world.b.administration, role="support")
    MembershipFactory(user=world.a.editor, administration=world.b.administration, role=MembershipRole.EDITOR)
    contribution = ContributionFactory(commitment=world.a.commitment)

    assert answering_administrations(world.a.editor, contribution) == [world.a.administration, world.b.administration]


def test_a_coordinator_can_answer_a_question_on_a_commitment_nobody_carries(world: World) -> None:
    contribution = ContributionFactory()

    assert can_answer(world.coordinator, contribution)
    assert answering_administrations(world.coordinator, contribution) != []


# What the workspace lists


def test_a_coordinator_sees_every_contribution_pending_ones_included(world: World) -> None:
    contributions = _one_of_each(world)

    assert set(Contribution.objects.editable_by(world.coordinator)) == set(contributions.values())
    assert set(Contribution.objects.editable_by(world.superuser)) == set(contributions.values())


def test_an_editor_sees_only_the_published_contributions_on_what_their_administration_carries(world: World) -> None:
    contributions = _one_of_each(world)

    assert list(Contribution.objects.editable_by(world.a.editor)) == [contributions["published on A"]]
    assert list(Contribution.objects.editable_by(world.b.editor)) == [contributions["published on B"]]


@pytest.mark.parametrize("who", ["anonymous", "signed-in without a role"])
def test_people_without_a_role_see_no_contribution(world: World, who: str) -> None:
    _one_of_each(world)

    assert not Contribution.objects.editable_by(PEOPLE[who](world)).exists()


def _one_of_each(world: World) -> dict[str, Contribution]:
    return {
        "published on A": ContributionFactory(commitment=world.a.commitment),
        "pending on A": ContributionFactory(commitment=world.a.commitment, state=ContributionState.PENDING),
        "rejected on A": ContributionFactory(commitment=world.a.commitment, state=ContributionState.REJECTED),
        "published on B": ContributionFactory(commitment=world.b.commitment),
        "published on a forum": ContributionFactory(commitment=None, forum=ForumFactory()),
    }
