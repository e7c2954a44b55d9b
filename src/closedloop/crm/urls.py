from django.urls import path

from closedloop.crm import (
    account_views,
    opportunity_close_views,
    opportunity_views,
    settings_views,
    views,
)

urlpatterns = [
    path("", views.home, name="home"),
    path("leads/", views.lead_list, name="lead-list"),
    path("leads/<int:pk>/", views.lead_detail, name="lead-detail"),
    path("pipeline/", opportunity_views.board, name="opportunity-board"),
    path("opportunities/", opportunity_views.opportunity_list, name="opportunity-list"),
    path(
        "opportunities/<int:pk>/",
        opportunity_views.opportunity_detail,
        name="opportunity-detail",
    ),
    path(
        "opportunities/<int:pk>/edit/", opportunity_views.opportunity_edit, name="opportunity-edit"
    ),
    path(
        "opportunities/<int:pk>/move/", opportunity_views.opportunity_move, name="opportunity-move"
    ),
    path(
        "opportunities/<int:pk>/close/",
        opportunity_close_views.opportunity_close,
        name="opportunity-close",
    ),
    path(
        "opportunities/<int:pk>/reopen/",
        opportunity_close_views.opportunity_reopen,
        name="opportunity-reopen",
    ),
    path("accounts/", account_views.account_list, name="account-list"),
    path("accounts/<int:pk>/", account_views.account_detail, name="account-detail"),
    path("accounts/<int:pk>/owner/", account_views.account_owner, name="account-owner"),
    path("settings/close-reasons/", settings_views.close_reasons, name="settings-close-reasons"),
    path("settings/pipeline/", settings_views.pipeline, name="settings-pipeline"),
]
