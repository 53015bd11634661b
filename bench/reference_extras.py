"""What readers find beside the reference data in bench/throughput.sh and bench/scale.sh: indicators, milestones
and questions.

The reference data has none (the plans' milestones are not transcribed: see ../shared/reference), and the pages
that show them are measured too. They are entered through the services, as people enter them, so that they have
their history, by an editor of each commitment's lead administration: 12 commitments get an indicator with a
monthly value for a year and three milestones, two of them done, and those of 2018-2020 a predecessor in
2015-2017 (a link for the measure, not the plans' real continuity, which the reference does not record); 8 get a
published question, 4 of them answered. Commitment 4 of 2018-2020 (measured alone by bench/pages.sh and
bench/api.sh) is left as those benchmarks see it.

    python bench/reference_extras.py    # from the repository root, on a database holding the reference data
"""

import datetime
import os
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opengov.settings")

import django

django.setup()

from accounts.models import MembershipRole, User  # noqa: E402
from accounts.services import invite_member  # noqa: E402
from commitments.models import Carrier, CarrierRole, Commitment  # noqa: E402
from commitments.services import add_milestone, mark_milestone_done, save_with_history  # noqa: E402
from forums.models import ContributionKind  # noqa: E402
from forums.services import answer_contribution, publish_contribution, submit_contribution  # noqa: E402
from indicators.models import Indicator  # noqa: E402
from indicators.services import record_value  # noqa: E402


def editor(commitment: Commitment, coordinator: User, editors: dict[int, User]) -> User:
    """A member of the commitment's lead administration, who enters its figures: its history names that
    administration, as it does when administrations update their own commitments."""
    lead = commitment.carriers.filter(role=CarrierRole.LEAD).select_related("administration").first()
    if lead is None:
        return coordinator
    administration = lead.administration
    if administration.pk not in editors:
        editors[administration.pk] = invite_member(
            email=f"redaction-{administration.slug}@example.gouv.fr",
            first_name="Rédaction",
            last_name=administration.short_name or administration.slug,
            administration=administration,
            role=MembershipRole.EDITOR,
            invited_by=coordinator,
            base_url="http://127.0.0.1",
        )
    return editors[administration.pk]


def main() -> None:
    coordinator = User.objects.create_superuser(username="bench", email="bench@example.gouv.fr", password=None)
    others = list(Commitment.objects.exclude(plan__slug="2018-2020", number=4).order_by("plan__slug", "number"))
    editors: dict[int, User] = {}
    for commitment in others[::4][:12]:
        by = editor(commitment, coordinator, editors)
        indicator = Indicator(
            commitment=commitment,
            name=f"Jeux de données publiés ({commitment.number})",
            unit="jeux de données",
            baseline_value=Decimal(0),
            target_value=Decimal(120),
        )
        save_with_history(indicator, by=by, reason="")
        for month in range(1, 13):
            record_value(indicator=indicator, date=datetime.date(2019, month, 1), value=Decimal(month * 8), by=by)
        if commitment.plan.slug == "2018-2020":
            commitment.predecessor = Commitment.objects.get(plan__slug="2015-2017", number=commitment.number)
            save_with_history(commitment, by=coordinator, reason="Engagement poursuivi (donnée de mesure)")
        year = commitment.plan.start_year
        for number, due in enumerate([(year, 9), (year + 1, 3), (year + 2, 6)], start=1):
            milestone = add_milestone(
                commitment=commitment,
                title=f"Étape {number} : publication",
                due_date=datetime.date(*due, 30),
                by=coordinator,
            )
            if number < 3:
                mark_milestone_done(milestone=milestone, completed_on=milestone.due_date, by=coordinator)
    for position, commitment in enumerate(others[1::6][:8]):
        question = submit_contribution(
            kind=ContributionKind.QUESTION,
            commitment=commitment,
            display_name="Camille",
            body=f"Où en est cet engagement ? Les données promises sont-elles publiées ? ({position})",
        )
        publish_contribution(contribution=question, by=coordinator)
        carrier = Carrier.objects.filter(commitment=commitment).select_related("administration").first()
        if position % 2 == 0 and carrier is not None:
            answer_contribution(
                contribution=question,
                administration=carrier.administration,
                by=coordinator,
                body="Les premiers jeux de données sont publiés ; les suivants le seront en fin d'année.",
            )


if __name__ == "__main__":
    main()
