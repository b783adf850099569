from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    """Django's admin, opened to school and district admins through the permission module."""

    default_site = "portal.admin_site.PortalAdminSite"
