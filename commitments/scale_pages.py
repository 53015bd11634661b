"""The public pages and API answers whose cost must not grow with the data (issue 9, point 2).

tests/test_flat_cost.py counts their queries on the synthetic data at two sizes; bench/scale.sh times them on
the reference data and at the scale of every OGP member. Both take the list from here, so that the benchmark
measures what the test counts.
"""

from urllib.parse import urlencode

from django.db.models import Count, F
from django.urls import reverse

from commitments.models import ActionPlan, Administration, Commitment
from forums.models import Forum
from indicators.models import Indicator
from opengov.api import build_router

# A word of the reference texts and of the synthetic ones (scale_data: ACTIONS, THEMES and the indicators'
# names), so that both data sets find something, in commitments, plans and indicators alike.
SEARCH_WORD = "données"
# A page number past the end: Paginator.get_page then shows the last page, the deepest of the list.
PAST_THE_END = 999_999


def busiest_commitment() -> Commitment:
    """The commitment with the most milestones, then indicators, then one that continues another (its page
    and history name it)."""
    return (
        Commitment.objects.annotate(milestone_count=Count("milestones", distinct=True))
        .annotate(indicator_count=Count("indicators", distinct=True))
        .order_by("-milestone_count", "-indicator_count", F("predecessor").desc(nulls_last=True), "pk")
        .select_related("plan")
        .first()
    )


def pages_to_measure() -> dict[str, str]:
    """Each kind of public page and API answer, at its busiest object in the database as it is: kind → path."""
    plan = ActionPlan.objects.annotate(n=Count("commitments")).order_by("-n", "pk").first()
    commitment = busiest_commitment()
    indicator = (
        Indicator.objects.public()
        .select_related("commitment__plan")
        .annotate(n=Count("values"))
        .order_by("-n", "pk")
        .first()
    )
    administration = Administration.objects.annotate(n=Count("carriers")).order_by("-n", "pk").first()
    forum = Forum.objects.annotate(n=Count("contributions")).order_by("-n", "pk").first()
    commitment_key = [commitment.plan.slug, commitment.number]
    indicator_key = [indicator.commitment.plan.slug, indicator.commitment.number]
    home, search, forums, questions = (
        reverse(name) for name in ("commitments:home", "commitments:search", "forums:list", "forums:questions")
    )
    words = urlencode({"q": SEARCH_WORD})
    last = f"page={PAST_THE_END}"
    pages = {
        "home": home,
        "home, last page": f"{home}?{last}",
        "plan": plan.get_absolute_url(),
        "plan, filtered": f"{plan.get_absolute_url()}?late=1",
        "commitment": commitment.get_absolute_url(),
        "commitment history": reverse("commitments:history", args=commitment_key),
        "contribution form, commitment": reverse("forums:contribute-commitment", args=commitment_key),
        "indicator": indicator.get_absolute_url(),
        "indicator CSV": reverse("indicators:csv", args=[*indicator_key, indicator.pk]),
        "administration": administration.get_absolute_url(),
        "updates": reverse("commitments:updates"),
        "updates feed": reverse("commitments:updates-feed"),
        "search": f"{search}?{words}",
        "search, last page": f"{search}?{words}&{last}",
        "forums": forums,
        "forums, last page": f"{forums}?{last}",
        "forum": forum.get_absolute_url(),
        "contribution form, forum": reverse("forums:contribute-forum", args=[forum.pk]),
        "forums calendar": reverse("forums:calendar"),
        "questions": questions,
        "questions, last page": f"{questions}?{last}",
        # Reads no data: what the rest of the request costs, middleware and base template.
        "static page": reverse("commitments:data"),
        "sitemap index": reverse("sitemap"),
        "sitemap of commitments": reverse("sitemap-section", args=["commitments"]),
        "API root": "/api/v1/",
        "API plan": f"/api/v1/plans/{plan.slug}/",
        "API commitment": f"/api/v1/commitments/{commitment.plan.slug}-{commitment.number}/",
        "API indicator": f"/api/v1/indicators/{indicator.pk}/",
    }
    # Every list of the API, from its routes: a new one is measured as soon as it is added.
    pages |= {f"API {prefix}": f"/api/v1/{prefix}/" for prefix, _, _ in build_router().registry}
    pages |= {
        "API commitments, search": f"/api/v1/commitments/?{words}",
        "API commitments, CSV": "/api/v1/commitments/?format=csv",
        "API commitments, last page": "/api/v1/commitments/?page=last",
    }
    return pages
