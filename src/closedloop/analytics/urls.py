from django.urls import path

from closedloop.analytics import views

urlpatterns = [
    path("analytics/attribution/", views.attribution, name="analytics-attribution"),
    path("analytics/campaigns/", views.campaign_roi, name="analytics-campaign-roi"),
]
