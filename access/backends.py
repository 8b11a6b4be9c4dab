"""Signing in: Django's model backend."""

from django.contrib.auth.backends import ModelBackend


class ConsoleBackend(ModelBackend):
    """Django's model backend under the console's name. Sessions remember the backend that
    signed them in by its dotted path, so this name stays: renaming it would sign everyone out."""
