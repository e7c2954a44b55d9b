"""The JSON API at /api/v1. Each app contributes a router from its own api.py."""

from ninja import NinjaAPI

from closedloop.analytics.api import router as analytics_router
from closedloop.campaigns.api import router as campaigns_router
from closedloop.content.api import router as content_router
from closedloop.content.usage_api import router as content_usage_router
from closedloop.core.api_support import install_error_handlers
from closedloop.crm.api import router as crm_router
from closedloop.definitions.api import router as definitions_router
from closedloop.engagement.api import router as engagement_router
from closedloop.handoff.api import router as handoff_router
from closedloop.imports.api import router as imports_router
from closedloop.privacy.api import router as privacy_router
from closedloop.scoring.api import router as scoring_router
from closedloop.webhooks.api import router as webhooks_router

api = NinjaAPI(
    title="closedloop API",
    version="1",
    description="Leads, accounts, opportunities and touchpoints. Authenticate with "
    "`Authorization: Bearer <token>`; create a token on the Tokens page or with "
    "`closedloop token create EMAIL`.",
    urls_namespace="api",
)

# The standard error body ({"errors": [{"field", "problem"}]}) for every router below.
install_error_handlers(api)
api.add_router("", analytics_router)
api.add_router("", campaigns_router)
api.add_router("", content_router)
api.add_router("", content_usage_router)
api.add_router("", crm_router)
api.add_router("", definitions_router)
api.add_router("", engagement_router)
api.add_router("", handoff_router)
api.add_router("", imports_router)
api.add_router("", privacy_router)
api.add_router("", scoring_router)
api.add_router("", webhooks_router)
