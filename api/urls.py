"""The API tokens page (the API itself is `api.api`, mounted at /api/v1/ in webapp/urls.py)."""

from django.urls import path

from .views import tokens

app_name = "tokens"

urlpatterns = [
    path("accounts/tokens/", tokens.token_list, name="list"),
    path("accounts/tokens/<int:pk>/revoke/", tokens.token_revoke, name="revoke"),
]
