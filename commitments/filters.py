import datetime

import django_filters
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext_lazy as _

from commitments.models import ActionPlan, Administration, Carrier, Commitment, CommitmentCompletion, Milestone


class CommitmentFilter(django_filters.FilterSet):
    """The filters of a plan's commitments; they combine, and each one lives in the URL."""

    q = django_filters.CharFilter(label=_("Words"), method="filter_text")
    axis = django_filters.ChoiceFilter(label=_("Axis"), field_name="axis__number")
    administration = django_filters.ChoiceFilter(label=_("Carrying administration"), method="filter_administration")
    completion = django_filters.ChoiceFilter(label=_("Completion"), choices=CommitmentCompletion.choices)
    late = django_filters.ChoiceFilter(
        label=_("Deadlines"), choices=[("yes", _("Late")), ("no", _("On time"))], method="filter_late"
    )

    class Meta:
        model = Commitment
        fields = ["q", "axis", "administration", "completion", "late"]

    def __init__(self, *args: object, plan: ActionPlan, today: datetime.date, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.filters["axis"].extra["choices"] = [(str(axis.number), str(axis)) for axis in plan.axes.all()]
        administrations = Administration.objects.filter(carriers__commitment__plan=plan).distinct().order_by("name")
        self.filters["administration"].extra["choices"] = [(a.slug, a.name) for a in administrations]

    def filter_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.matching(value)

    def filter_administration(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Exists(Carrier.objects.filter(commitment=OuterRef("pk"), administration__slug=value)))

    def filter_late(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        late = Exists(Milestone.objects.late(self.today).filter(commitment=OuterRef("pk")))
        return queryset.filter(late) if value == "yes" else queryset.exclude(late)
