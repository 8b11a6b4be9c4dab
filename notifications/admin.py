from django.contrib import admin

from .models import Channel, Delivery, OutgoingEmail


class ReadOnlyAdmin(admin.ModelAdmin):
    """What was sent, to whom, and how it ended; the services alone change these rows."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(ReadOnlyAdmin):
    """The body (it may hold a link that works once) is never shown."""

    list_display = ["created_at", "recipient", "subject", "status", "attempts", "sent_at", "last_error"]
    list_filter = ["status"]
    search_fields = ["recipient", "subject"]
    exclude = ["body"]


@admin.register(Channel)
class ChannelAdmin(ReadOnlyAdmin):
    """A project's channels; the URL and the signing secret are never shown, only the host."""

    list_display = ["name", "project", "kind", "display", "enabled", "reminder_hours", "created_at"]
    list_filter = ["kind", "enabled"]
    exclude = ["target", "secret"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "channel", "event", "reminder", "status", "attempts", "delivered_at", "last_error"]
    list_filter = ["status"]
    list_select_related = ["channel", "event"]
