from django.contrib import admin
from django.urls import include, path

from closedloop.api import api
from closedloop.core.admin_site import restrict_admin_to_admins
from closedloop.privacy.admin import install as install_privacy_actions

restrict_admin_to_admins(admin.site)
install_privacy_actions(admin.site)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("closedloop.core.urls")),
    path("", include("closedloop.crm.urls")),
    path("", include("closedloop.analytics.urls")),
    path("", include("closedloop.engagement.urls")),
    path("", include("closedloop.content.urls")),
    path("", include("closedloop.content.usage_urls")),
    path("", include("closedloop.campaigns.urls")),
    path("", include("closedloop.definitions.urls")),
    path("", include("closedloop.scoring.urls")),
    path("", include("closedloop.handoff.urls")),
    path("", include("closedloop.imports.urls")),
    path("", include("closedloop.webhooks.urls")),
]
