from django.contrib import admin

from .models import Backup, BackupEvent, Instance


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
