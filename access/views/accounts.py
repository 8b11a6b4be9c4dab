"""A person's own account: the password change, which someone with an initial password (set
by an admin) must do before anything else."""

from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.views import PasswordChangeView
from django.http import HttpResponseRedirect

from access.selectors.accounts import must_change_password
from access.services import accounts


class PasswordChange(PasswordChangeView):
    """Django's password change, recorded in the audit trail; it also lifts the initial password."""

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs) | {"initial_password": must_change_password(self.request.user)}

    def form_valid(self, form):
        accounts.account_password_change(user=form.user, password=form.cleaned_data["new_password1"])
        update_session_auth_hash(self.request, form.user)
        return HttpResponseRedirect(self.get_success_url())
