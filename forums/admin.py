from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.permissions import is_platform_admin
from forums import services
from forums.models import Answer, Contribution, ContributionState, Forum
from forums.permissions import can_moderate
from forums.workspace import contribution_view
from opengov.admin_site import WorkspaceAdmin


@admin.register(Forum)
class ForumAdmin(WorkspaceAdmin):
    # Forums are organised by the coordinating team; editors answer the questions raised there, not forums.
    editors_see = False
    list_display = ["__str__", "number", "date", "place", "is_verified"]
    list_filter = ["is_verified", "date"]
    search_fields = ["title", "theme", "place"]
    date_hierarchy = "date"
    autocomplete_fields = ["commitments"]


class AnsweredFilter(admin.SimpleListFilter):
    title = _("answer")
    parameter_name = "answered"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", _("Answered")), ("no", _("Awaiting an answer"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.answered()
        if self.value() == "no":
            return queryset.unanswered()
        return queryset


@admin.register(Contribution)
class ContributionAdmin(WorkspaceAdmin):
    """Citizens' contributions. Their page (the change view) holds moderation and answer; nobody rewrites
    a citizen's words, and the author's e-mail address is shown to nobody."""

    list_display = ["summary", "kind", "state", "subject", "created_at", "published_at", "is_answered"]
    list_filter = ["state", AnsweredFilter, "kind", "commitment__plan"]
    search_fields = ["body", "display_name", "commitment__title", "forum__title"]
    list_select_related = ["commitment__plan", "forum", "answer"]
    # Awaiting moderation first ("pending" sorts before "published" and "rejected"), newest first.
    ordering = ["state", "-created_at"]
    actions = ["publish_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # All of list_select_related: the list applies it only to a queryset that selects nothing related yet.
        # Without the answer, "answered" cost a query per row (issue 9).
        return super().get_queryset(request).select_related(*self.list_select_related)

    @admin.display(description=_("text"))
    def summary(self, contribution: Contribution) -> str:
        return Truncator(contribution.body).chars(80)

    @admin.display(description=_("about"))
    def subject(self, contribution: Contribution) -> str:
        if contribution.commitment_id:
            return f"{contribution.commitment.plan.slug} — {contribution.commitment.number}"
        return str(contribution.forum)

    @admin.display(description=_("answered"), boolean=True)
    def is_answered(self, contribution: Contribution) -> bool:
        return hasattr(contribution, "answer")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # contributions come from citizens, through the public form

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The page is the moderation and answer page; its forms ask their own predicates.
        return self.has_view_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Rejecting keeps the record and tells the author; deleting is a platform repair only.
        return is_platform_admin(request.user)

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        if not can_moderate(request.user):
            actions.pop("publish_selected", None)
        return actions

    @admin.action(description=_("Publish the selected contributions"))
    def publish_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        if not can_moderate(request.user):
            return
        pending = list(queryset.filter(state=ContributionState.PENDING))
        for contribution in pending:
            services.publish_contribution(contribution=contribution, by=request.user)
        count = len(pending)
        self.message_user(
            request,
            ngettext("%(count)d contribution published.", "%(count)d contributions published.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        contribution = self.get_object(request, object_id)
        return contribution_view(request, contribution, self.admin_site.each_context(request))


@admin.register(Answer)
class AnswerAdmin(WorkspaceAdmin):
    """Answers, to read with their history; they are written and changed on their contribution's page."""

    list_display = ["contribution", "administration", "answered_at", "updated_at"]
    list_filter = ["administration"]
    search_fields = ["body", "contribution__body"]
    list_select_related = ["contribution", "administration"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_platform_admin(request.user)
