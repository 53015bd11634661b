from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import Membership, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["administration"]


@admin.register(User)
class OpengovUserAdmin(UserAdmin):
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ["user", "administration", "role"]
    list_filter = ["role", "administration"]
    search_fields = ["user__username", "user__email", "administration__name", "administration__short_name"]
    list_select_related = ["user", "administration"]
    autocomplete_fields = ["user", "administration"]
