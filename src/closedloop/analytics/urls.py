from django.urls import path

from closedloop.analytics import goal_views, scoreboard_views, views

urlpatterns = [
    path("analytics/attribution/", views.attribution, name="analytics-attribution"),
    path("analytics/campaigns/", views.campaign_roi, name="analytics-campaign-roi"),
    path("scoreboard/", scoreboard_views.scoreboard_page, name="analytics-scoreboard"),
    path(
        "scoreboard/<slug:figure>/",
        scoreboard_views.scoreboard_drill,
        name="analytics-scoreboard-drill",
    ),
    path("goals/", goal_views.goal_list, name="analytics-goals"),
    path("goals/new/", goal_views.goal_new, name="analytics-goal-new"),
    path("goals/<int:pk>/", goal_views.goal_detail, name="analytics-goal"),
    path("goals/<int:pk>/sign/", goal_views.goal_sign, name="analytics-goal-sign"),
    path("goals/<int:pk>/withdraw/", goal_views.goal_withdraw, name="analytics-goal-withdraw"),
]
