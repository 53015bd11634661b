"""Who someone is in the workspace: the roles every other permissions module builds on.

Three kinds of people sign in. Coordinators (the Etalab/DITP role) oversee every plan: reference
fields, moderation, accounts. Editors act for one or more administrations, on the commitments those
carry only. Platform superusers run the instance; Django lets them do everything, which operations
sometimes need (a repair), so they pass every predicate too.
"""

from dataclasses import dataclass
from typing import Any

from accounts.models import MembershipRole


@dataclass(frozen=True)
class Roles:
    is_superuser: bool = False
    is_coordinator: bool = False
    # The administrations the person is an editor for.
    administration_ids: frozenset[int] = frozenset()

    @property
    def sees_everything(self) -> bool:
        return self.is_superuser or self.is_coordinator

    @property
    def is_editor(self) -> bool:
        return bool(self.administration_ids)


NOBODY = Roles()


def roles_of(user: Any) -> Roles:
    """A person's roles, read once per request: the admin asks for them on every row it draws."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NOBODY
    cached = getattr(user, "_opengov_roles", None)
    if cached is None:
        memberships = list(user.memberships.values_list("administration_id", "role"))
        cached = Roles(
            is_superuser=user.is_superuser,
            is_coordinator=any(role == MembershipRole.COORDINATOR for _, role in memberships),
            administration_ids=frozenset(a for a, role in memberships if role == MembershipRole.EDITOR),
        )
        user._opengov_roles = cached
    return cached


def is_coordinator(user: Any) -> bool:
    """Coordinators, and superusers, may act on every plan."""
    return roles_of(user).sees_everything


def can_use_workspace(user: Any) -> bool:
    """Staff with a role: who may open the admin at all (its site adds the second factor)."""
    roles = roles_of(user)
    return user.is_staff and (roles.sees_everything or roles.is_editor)


def can_manage_accounts(user: Any) -> bool:
    """Coordinators invite editors and set memberships; an editor never changes their own."""
    return is_coordinator(user)


def can_change_account(user: Any, account: Any) -> bool:
    """A coordinator manages people's accounts but not a superuser's, which only superusers touch."""
    if roles_of(user).is_superuser:
        return True
    return can_manage_accounts(user) and not account.is_superuser


def can_invite(user: Any) -> bool:
    """Coordinators bring people in by invitation, the only way they add an account."""
    return can_manage_accounts(user)


def is_platform_admin(user: Any) -> bool:
    """Superusers alone grant superuser status, groups and Django permissions, set someone's password
    and add or delete accounts outright: these reach past the roles the rest of the project checks."""
    return roles_of(user).is_superuser
