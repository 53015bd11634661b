from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from commitments.models import HistoryAdministration


class User(AbstractUser):
    """The project's own user model, in place from the first migration so it can grow."""

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"


class MembershipRole(models.TextChoices):
    EDITOR = "editor", _("Editor")
    COORDINATOR = "coordinator", _("Coordinator")


class Membership(models.Model):
    """A user acting for an administration: editor of its commitments, or coordinator of all plans."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships"
    )
    administration = models.ForeignKey(
        "commitments.Administration",
        verbose_name=_("administration"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    role = models.CharField(_("role"), max_length=20, choices=MembershipRole.choices, default=MembershipRole.EDITOR)

    history = HistoricalRecords(bases=[HistoryAdministration])

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["administration", "user"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "administration"],
                name="membership_unique",
                violation_error_message=_("This user is already a member of this administration."),
            ),
            models.CheckConstraint(
                condition=Q(role__in=MembershipRole.values),
                name="membership_role_valid",
                violation_error_message=_("A member is either editor or coordinator."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.administration} ({self.get_role_display()})"
