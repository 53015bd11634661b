from django.contrib import admin

from forums.models import Forum
from opengov.admin_site import WorkspaceAdmin


@admin.register(Forum)
class ForumAdmin(WorkspaceAdmin):
    # Forums are organised by the coordinating team; editors answer questions (issue 7), not forums.
    editors_see = False
    list_display = ["__str__", "number", "date", "place", "is_verified"]
    list_filter = ["is_verified", "date"]
    search_fields = ["title", "theme", "place"]
    date_hierarchy = "date"
    autocomplete_fields = ["commitments"]
