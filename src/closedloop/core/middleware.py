from closedloop.core.audit import acting_as
from closedloop.core.models import AuditSource


class AuditSourceMiddleware:
    """Attribute audited changes made while serving a page to the signed-in user, via the UI.

    API requests are re-attributed to AuditSource.API by the token authentication.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user if request.user.is_authenticated else None
        with acting_as(user, AuditSource.UI):
            return self.get_response(request)
