"""Bearer-token authentication for the JSON API (hashed personal tokens)."""

from ninja.security import HttpBearer

from closedloop.core.audit import Actor, _current
from closedloop.core.models import AuditSource
from closedloop.core.services import user_for_token


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        user = user_for_token(token)
        if user is None:
            return None
        request.user = user
        # Attribute this request's changes to the token's user, via the API. The request
        # middleware resets the variable when the response is done.
        _current.set(Actor(user.pk, AuditSource.API))
        return user


token_auth = TokenAuth()
