from django.contrib.admin.apps import AdminConfig


class WorkspaceAdminConfig(AdminConfig):
    """Django's admin, with the workspace's site as its default (no model imported here: apps load first)."""

    default_site = "opengov.admin_site.WorkspaceAdminSite"
