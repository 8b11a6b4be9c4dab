from django.contrib import admin

from .models import Backup, BackupEvent, CloudProject, Instance, Membership


@admin.register(CloudProject)
class CloudProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "region", "project_id", "iam_user", "instances_synced_at"]
    # The password is write-only: it is never shown, not even encrypted.
    exclude = ["iam_password"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "project", "role"]
    list_filter = ["role", "project"]


@admin.register(Instance)
class InstanceAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "status", "mode", "datastore_version", "synced_at"]
    list_filter = ["project", "status"]


class BackupEventInline(admin.TabularInline):
    model = BackupEvent
    extra = 0


@admin.register(Backup)
class BackupAdmin(admin.ModelAdmin):
    list_display = ["name", "instance", "status", "progress", "requested_by", "requested_at"]
    list_filter = ["status", "origin"]
    list_select_related = ["instance", "requested_by"]
    inlines = [BackupEventInline]
