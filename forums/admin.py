from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from forums.models import Forum


@admin.register(Forum)
class ForumAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "number", "date", "place", "is_verified"]
    list_filter = ["is_verified", "date"]
    search_fields = ["title", "theme", "place"]
    date_hierarchy = "date"
    autocomplete_fields = ["commitments"]
