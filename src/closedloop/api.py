"""The JSON API at /api/v1. Each app contributes a router from its own api.py."""

from ninja import NinjaAPI

api = NinjaAPI(
    title="closedloop API",
    version="1",
    description="Leads, accounts, opportunities and touchpoints. Authenticate with "
    "`Authorization: Bearer <token>`; create a token on the Tokens page or with "
    "`closedloop token create EMAIL`.",
    urls_namespace="api",
)
