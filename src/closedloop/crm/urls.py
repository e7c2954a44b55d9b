from django.urls import path

from closedloop.crm import settings_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("leads/", views.lead_list, name="lead-list"),
    path("leads/<int:pk>/", views.lead_detail, name="lead-detail"),
    path("settings/close-reasons/", settings_views.close_reasons, name="settings-close-reasons"),
    path("settings/pipeline/", settings_views.pipeline, name="settings-pipeline"),
]
