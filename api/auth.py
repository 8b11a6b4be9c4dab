"""How an API request says who it is: `Authorization: Bearer <personal access token>`.

The token's owner becomes `request.user`, narrowed to the token's scope
(`access.permissions.narrow_to`), so the selectors and `user_can` the pages use answer for
the token: the same rules, and never more than the owner may do today. Sessions and cookies
play no part, so the API needs no CSRF token and a browser's session cannot be borrowed.
"""

from django.conf import settings
from ninja.errors import Throttled
from ninja.security import HttpBearer

from access.models import Membership
from access.selectors.projects import act_for_token
from api.errors import NotAuthenticated
from api.models import ApiToken
from api.services import tokens
from webapp.throttle import Throttle

REQUESTS = Throttle("api-token", limit=settings.API_REQUESTS_PER_MINUTE, window=60)


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str) -> ApiToken:
        try:
            api_token = tokens.authenticate(token)
        except tokens.TokenRefused as error:
            raise NotAuthenticated(str(error)) from None
        if not REQUESTS.take(str(api_token.pk)):
            raise Throttled(REQUESTS.seconds_left())
        user = api_token.user
        # The owner's roles in the token's projects, with the projects, in one query.
        in_scope = ApiToken.projects.through.objects.filter(apitoken=api_token).values("cloudproject")
        memberships = Membership.objects.filter(user=user, project__in=in_scope).select_related("project")
        act_for_token(user, list(memberships), api_token.role)
        request.user = user
        request.api_token = api_token
        return api_token
