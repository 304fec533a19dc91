from django.contrib.admin.apps import AdminConfig


class FleetAdminConfig(AdminConfig):
    """The Django admin, with access decided by fleetweb's roles (fleetweb/admin_site.py)."""

    default_site = "fleetweb.admin_site.FleetAdminSite"
