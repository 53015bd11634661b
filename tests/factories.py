import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import Membership, MembershipRole, User
from commitments.models import ActionPlan, ActionPlanStatus, Administration, Axis, Carrier, Commitment, Milestone
from forums.models import Answer, Contribution, ContributionKind, ContributionState, Forum
from indicators.models import Indicator, IndicatorValue


def noon_days_ago(days: int) -> datetime.datetime:
    """Noon in the site's time zone, `days` calendar days ago: for what counts calendar days there (a question's
    wait). "Now minus 1,200 days" at 23:15 in winter fell at 00:15 the next day in summer time, 1,199 calendar
    days ago; "now minus 4 days and an hour" at 00:30 fell five calendar days ago."""
    noon_today = timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time(12)))
    return noon_today - datetime.timedelta(days=days)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"agent{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.gouv.fr")


class AdministrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Administration

    name = factory.Sequence(lambda n: f"Ministère numéro {n}")
    slug = factory.Sequence(lambda n: f"ministere-{n}")
    kind = "ministry"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    administration = factory.SubFactory(AdministrationFactory)
    role = MembershipRole.EDITOR


class ActionPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActionPlan

    title = factory.Sequence(lambda n: f"Plan d'action {n}")
    slug = factory.Sequence(lambda n: f"plan-{n}")
    owner = "Gouvernement français"
    start_year = 2018
    end_year = 2020
    status = ActionPlanStatus.IN_PROGRESS


class AxisFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Axis

    plan = factory.SubFactory(ActionPlanFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Axe {n}")


class CommitmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Commitment

    plan = factory.SubFactory(ActionPlanFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Engagement {n}")
    slug = factory.Sequence(lambda n: f"engagement-{n}")


class CarrierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Carrier

    commitment = factory.SubFactory(CommitmentFactory)
    administration = factory.SubFactory(AdministrationFactory)
    role = "lead"


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Milestone

    commitment = factory.SubFactory(CommitmentFactory)
    title = factory.Sequence(lambda n: f"Jalon {n}")
    due_date = datetime.date(2019, 12, 31)


class IndicatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Indicator

    commitment = factory.SubFactory(CommitmentFactory)
    name = factory.Sequence(lambda n: f"Indicateur {n}")
    unit = "jeux de données"
    baseline_value = Decimal(0)
    target_value = Decimal(100)


def json_indicator(url: str, selector: str = "data.total", **fields: object) -> Indicator:
    """An indicator read from a JSON source."""
    return IndicatorFactory(source_format="json", source_url=url, source_selector=selector, **fields)


class IndicatorValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IndicatorValue

    indicator = factory.SubFactory(IndicatorFactory)
    date = datetime.date(2019, 1, 1)
    value = Decimal(50)
    recorded_at = factory.LazyFunction(timezone.now)


class ForumFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Forum

    number = factory.Sequence(lambda n: n + 100)
    title = factory.Sequence(lambda n: f"Forum {n}")
    date = datetime.date(2018, 5, 24)


class ContributionFactory(factory.django.DjangoModelFactory):
    """A published question on a commitment; pass state=ContributionState.PENDING for one awaiting moderation."""

    class Meta:
        model = Contribution

    kind = ContributionKind.QUESTION
    commitment = factory.SubFactory(CommitmentFactory)
    body = factory.Sequence(lambda n: f"Où en est la publication des données n° {n} ?")
    display_name = "Camille"
    state = ContributionState.PUBLISHED
    published_at = factory.LazyAttribute(lambda c: timezone.now() if c.state == ContributionState.PUBLISHED else None)
    rejection_reason = factory.LazyAttribute(lambda c: "Hors sujet." if c.state == ContributionState.REJECTED else "")


class AnswerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Answer

    contribution = factory.SubFactory(ContributionFactory)
    administration = factory.SubFactory(AdministrationFactory)
    body = "Les données sont publiées depuis le mois dernier."


class TOTPDeviceFactory(factory.django.DjangoModelFactory):
    """A confirmed authenticator; tests compute its real codes with django_otp.oath.totp(device.bin_key)."""

    class Meta:
        model = "otp_totp.TOTPDevice"

    user = factory.SubFactory(UserFactory)
    name = "Authenticator app"
    confirmed = True
