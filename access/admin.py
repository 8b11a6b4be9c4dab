"""Django's admin for the access app: read-only where the console has a page that proves and
audits the change, and accounts changed only under the console's rules (docs/security.md)."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from access.services import accounts, site_admin
from webapp.admin_site import ReadOnlyAdmin

from .models import AuditEvent, CloudProject, Membership

User = get_user_model()


@admin.register(CloudProject)
class CloudProjectAdmin(admin.ModelAdmin):
    """Projects are connected, and their credentials replaced, in the console (Team page),
    where the credentials are proven first and the change is audited. Here only the name can
    be corrected: a changed endpoint or user would receive the stored password without anyone
    having typed it, and deleting a project would take its backup history with it."""

    list_display = ["name", "region", "project_id", "iam_user", "instances_synced_at"]
    # The password is write-only: it is never shown, not even encrypted.
    fields = [
        "name",
        "region",
        "project_id",
        "iam_endpoint",
        "geminidb_endpoint",
        "iam_domain",
        "iam_user",
        "instances_synced_at",
        "created_at",
        "updated_at",
    ]
    readonly_fields = [str(field) for field in fields if field != "name"]  # str(): `fields` is typed as groups too

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    """Read-only: roles change on a project's Team page, which keeps the last admin and audits."""

    list_display = ["user", "project", "role"]
    list_filter = ["role", "project"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only, like the console's own page: the trail is append-only."""

    list_display = ["at", "action", "actor_name", "project_name", "target", "ip"]
    list_filter = ["action"]
    search_fields = ["actor_name", "target", "project_name"]
    # The trail only grows: counting it on every page would grow with it (FIELD-NOTES).
    show_full_result_count = False


class Refused(Exception):
    """A change the console's rules refuse; the admin says why and saves nothing."""


if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class ConsoleUserAdmin(UserAdmin):
    """Django's user admin under the console's rules: deactivating and reactivating go through
    the console's services (last-admin rule, sessions, audit), a password set here is audited,
    the last admin of a project cannot be deleted, and accounts are created in the console."""

    list_display = ["username", "email", "first_name", "last_name", "is_active", "is_superuser"]
    readonly_fields = ["last_login", "date_joined"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        if obj is not None and site_admin.account_delete_refusal(user=obj, by=request.user):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        # Deleting goes one account at a time, through the checks below.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except Refused as refused:  # raised inside the view's transaction: nothing was saved
            self.message_user(request, str(refused), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        activation = change and "is_active" in form.changed_data
        if activation:
            wanted, obj.is_active = obj.is_active, form.initial["is_active"]
        super().save_model(request, obj, form, change)
        if activation:
            try:
                if wanted:
                    accounts.account_reactivate(user=obj, by=request.user)
                else:
                    accounts.account_deactivate(user=obj, by=request.user)
            except ValidationError as error:
                raise Refused(" ".join(error.messages)) from error

    def delete_view(self, request, object_id, extra_context=None):
        user = self.get_object(request, unquote(object_id))
        refusal = user is not None and site_admin.account_delete_refusal(user=user, by=request.user)
        if refusal:
            self.message_user(request, _("Not deleted: %(reason)s") % {"reason": refusal}, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:auth_user_change", args=[user.pk]))
        try:
            return super().delete_view(request, object_id, extra_context)
        except Refused as refused:  # someone changed the team meanwhile: nothing was deleted
            self.message_user(request, _("Not deleted: %(reason)s") % {"reason": refused}, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:auth_user_change", args=[user.pk]))

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # Memberships are read-only here, yet they go with the account: `account_delete` removes
        # them under the team's rules and records each.
        perms_needed.discard(Membership._meta.verbose_name)
        return deleted, counts, perms_needed, protected

    def delete_model(self, request, obj):
        try:
            site_admin.account_delete(user=obj, by=request.user)
        except ValidationError as error:
            raise Refused(" ".join(error.messages)) from error

    def user_change_password(self, request, id, form_url=""):
        if request.method != "POST":
            return super().user_change_password(request, id, form_url)
        with transaction.atomic():
            user = self.get_object(request, unquote(id))
            before = user.password if user is not None else None
            response = super().user_change_password(request, id, form_url)
            user = self.get_object(request, unquote(id))
            if user is not None and user.password != before:
                site_admin.account_password_set_by_admin(user=user, by=request.user)
        return response
