from django.urls import path

from closedloop.analytics import funnel_views, views

urlpatterns = [
    path("analytics/attribution/", views.attribution, name="analytics-attribution"),
    path("analytics/funnel/", funnel_views.funnel, name="analytics-funnel"),
]
