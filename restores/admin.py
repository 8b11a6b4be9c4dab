from django.contrib import admin

from webapp.admin_site import ReadOnlyAdmin, ReadOnlyInline

from .models import RehearsalSchedule, Restore, RestoreEvent

# Read-only, as the backups' are: restores are requested on the console's pages, which check the
# role and audit the request. The password (encrypted, and blank once the cloud took the create)
# is never shown.


class RestoreEventInline(ReadOnlyInline):
    model = RestoreEvent


@admin.register(Restore)
class RestoreAdmin(ReadOnlyAdmin):
    list_display = ["target_name", "kind", "source_instance", "backup", "status", "cleanup_status", "requested_at"]
    list_filter = ["kind", "status", "cleanup_status"]
    list_select_related = ["source_instance", "backup"]
    exclude = ["password"]
    inlines = [RestoreEventInline]


@admin.register(RehearsalSchedule)
class RehearsalScheduleAdmin(ReadOnlyAdmin):
    list_display = ["instance", "every_days", "enabled", "next_due_at"]
    list_select_related = ["instance"]
