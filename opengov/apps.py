from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class WorkspaceAdminConfig(AdminConfig):
    """Django's admin, with the workspace's site as its default (no model imported here: apps load first)."""

    default_site = "opengov.admin_site.WorkspaceAdminSite"


class SiteConfig(AppConfig):
    """The project itself, for its operations commands (opengov/management/commands)."""

    name = "opengov"
    verbose_name = "opengov"

    def ready(self) -> None:
        from opengov.page_cache import connect_signals

        connect_signals()
