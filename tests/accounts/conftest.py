import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import MembershipRole, User
from tests.factories import MembershipFactory, UserFactory

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: object) -> None:
    """Every sign-in hashes a password; the default hasher's 1,000,000 rounds would make these tests crawl."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def staff(role: str | None = MembershipRole.COORDINATOR, **fields: object) -> User:
    """A staff account with a password, and a membership in the given role (none for None)."""
    user = UserFactory(is_staff=True, **fields)
    user.set_password(PASSWORD)
    user.save()
    if role is not None:
        MembershipFactory(user=user, role=role)
    return user


def code(device: TOTPDevice, *, offset: int = 0) -> str:
    """The device's real code now (offset: that many 30-second steps later)."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset):06d}"
