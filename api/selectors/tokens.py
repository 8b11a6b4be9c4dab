"""The API tokens page's queries: a person's own tokens, never anyone else's."""

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from access.models import CloudProject
from api.models import ApiToken


def user_tokens(user) -> QuerySet[ApiToken]:
    """The user's tokens, newest first, revoked and expired ones too, each with its projects
    (two queries, however many tokens)."""
    return ApiToken.objects.filter(user=user).prefetch_related(
        Prefetch("projects", queryset=CloudProject.objects.order_by("name"))
    )


def user_token(user, pk: int) -> ApiToken:
    """One of the user's tokens; 404 for anyone else's, as for one that does not exist."""
    return get_object_or_404(user_tokens(user), pk=pk)
