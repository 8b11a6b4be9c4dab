"""Signing in: Django's model backend, with one query saved on every page."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class ConsoleBackend(ModelBackend):
    """Django's model backend, except that the user it loads for each request brings its
    initial-password mark along in the same query, so checking it on every page is free."""

    def get_user(self, user_id):
        users = get_user_model()._default_manager.select_related("initial_password")
        user = users.filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
