"""Django's admin as the console runs it: a place to look, not a back door.

Every change the console has a page for (backups, team, credentials, accounts) is made there,
where it is checked and audited; the admin shows those models read-only (`ReadOnlyAdmin`) or
sends its changes through the same services (access/admin.py). docs/security.md says what a
site administrator can see and do here.
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _


class ConsoleAdminSite(admin.AdminSite):
    site_header = _("GeminiDB Backup Console administration")
    site_title = _("GeminiDB Backup Console admin")

    def password_change(self, request, extra_context=None):
        # One's own password is changed on the console's page, which audits it.
        return redirect("password_change")


class ConsoleAdminConfig(AdminConfig):
    """`django.contrib.admin` with `ConsoleAdminSite` as `admin.site` (settings.INSTALLED_APPS)."""

    default_site = "webapp.admin_site.ConsoleAdminSite"


class ReadOnlyAdmin(admin.ModelAdmin):
    """List and detail pages only: nothing can be added, changed or deleted here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
