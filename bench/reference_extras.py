"""What readers find beside the reference data in bench/throughput.sh and bench/scale.sh: indicators and questions.

The reference data has neither, and the pages that show them are measured too. They are entered through the
services, as people enter them: 12 commitments get an indicator with a monthly value for a year, and 8 a
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

from accounts.models import User  # noqa: E402
from commitments.models import Carrier, Commitment  # noqa: E402
from commitments.services import save_with_history  # noqa: E402
from forums.models import ContributionKind  # noqa: E402
from forums.services import answer_contribution, publish_contribution, submit_contribution  # noqa: E402
from indicators.models import Indicator  # noqa: E402
from indicators.services import record_value  # noqa: E402


def main() -> None:
    coordinator = User.objects.create_superuser(username="bench", email="bench@example.gouv.fr", password=None)
    others = list(Commitment.objects.exclude(plan__slug="2018-2020", number=4).order_by("plan__slug", "number"))
    for commitment in others[::4][:12]:
        indicator = Indicator(
            commitment=commitment,
            name=f"Jeux de données publiés ({commitment.number})",
            unit="jeux de données",
            baseline_value=Decimal(0),
            target_value=Decimal(120),
        )
        save_with_history(indicator, by=coordinator, reason="")
        for month in range(1, 13):
            record_value(
                indicator=indicator, date=datetime.date(2019, month, 1), value=Decimal(month * 8), by=coordinator
            )
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
