from django.contrib import admin

from webapp.admin_site import ReadOnlyAdmin, ReadOnlyInline

from .models import Backup, BackupEvent, Instance

# Read-only, all three: backups are requested on the Instances page, which checks the role
# and audits the request, and instances and timelines come from the cloud. A site
# administrator may look here at any project's; changing or deleting one is not a thing.


@admin.register(Instance)
class InstanceAdmin(ReadOnlyAdmin):
    list_display = ["name", "project", "status", "mode", "datastore_version", "synced_at"]
    list_filter = ["project", "status"]


class BackupEventInline(ReadOnlyInline):
    model = BackupEvent


@admin.register(Backup)
class BackupAdmin(ReadOnlyAdmin):
    list_display = ["name", "instance", "status", "progress", "requested_by", "requested_at"]
    list_filter = ["status", "origin"]
    list_select_related = ["instance", "requested_by"]
    inlines = [BackupEventInline]
