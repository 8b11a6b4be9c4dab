from django.contrib import admin

from .models import AuditEvent, CloudProject, Membership


@admin.register(CloudProject)
class CloudProjectAdmin(admin.ModelAdmin):
    """Projects are connected, and their credentials replaced, in the console (Projects page),
    where the credentials are proven first and the change is audited. Here only the name and
    region can be corrected: a changed endpoint or user would receive the stored password
    without anyone having typed it."""

    list_display = ["name", "region", "project_id", "iam_user", "instances_synced_at"]
    # The password is write-only: it is never shown, not even encrypted.
    exclude = ["iam_password"]
    readonly_fields = [
        "project_id",
        "iam_endpoint",
        "geminidb_endpoint",
        "iam_domain",
        "iam_user",
        "instances_synced_at",
    ]

    def has_add_permission(self, request):
        return False


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Read-only: roles change on a project's Team page, which keeps the last admin and audits."""

    list_display = ["user", "project", "role"]
    list_filter = ["role", "project"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only, like the console's own page: the trail is append-only."""

    list_display = ["at", "action", "actor_name", "project_name", "target", "ip"]
    list_filter = ["action"]
    search_fields = ["actor_name", "target", "project_name"]
    # The trail only grows: counting it on every page would grow with it (FIELD-NOTES).
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
