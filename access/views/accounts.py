"""A person's own account: the password change."""

from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.views import PasswordChangeView
from django.http import HttpResponseRedirect

from access.services import accounts


class PasswordChange(PasswordChangeView):
    """Django's password change, recorded in the audit trail."""

    def form_valid(self, form):
        accounts.account_password_change(user=form.user, password=form.cleaned_data["new_password1"])
        update_session_auth_hash(self.request, form.user)
        return HttpResponseRedirect(self.get_success_url())
