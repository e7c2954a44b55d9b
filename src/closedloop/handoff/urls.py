from django.urls import path

from closedloop.handoff import lead_views, qualify_views, settings_views, views

urlpatterns = [
    path("inbox/", views.inbox, name="handoff-inbox"),
    path("inbox/poll/", views.inbox_poll, name="handoff-inbox-poll"),
    path("inbox/notifications/read/", views.read_notifications, name="handoff-notifications-read"),
    path("inbox/leads/<int:pk>/", views.card, name="handoff-card"),
    path("inbox/leads/<int:pk>/accept/", views.accept, name="handoff-accept"),
    path("inbox/leads/<int:pk>/reject/", views.reject, name="handoff-reject"),
    path("inbox/leads/<int:pk>/activity/", views.log_work, name="handoff-activity"),
    path("inbox/leads/<int:pk>/claim/", views.claim, name="handoff-claim"),
    path("inbox/leads/<int:pk>/assign/", views.assign, name="handoff-assign"),
    path("inbox/reassign/", views.reassign, name="handoff-reassign"),
    path("handoff/disputes/", views.disputes, name="handoff-disputes"),
    path("handoff/sla/", views.sla_page, name="handoff-sla"),
    path("handoff/feedback/", views.feedback_page, name="handoff-feedback"),
    path("leads/<int:pk>/work/details/", lead_views.edit_details, name="lead-work-details"),
    path("leads/<int:pk>/work/log/", lead_views.log, name="lead-work-log"),
    path("leads/<int:pk>/work/tasks/", lead_views.add_task, name="lead-work-task"),
    path("leads/<int:pk>/work/qualify/", qualify_views.qualify, name="lead-work-qualify"),
    path("leads/<int:pk>/work/open-deal/", qualify_views.open_deal, name="lead-work-open-deal"),
    path(
        "leads/<int:pk>/work/tasks/<int:task_id>/done/",
        lead_views.complete_task,
        name="lead-work-task-done",
    ),
    path("settings/reasons/", settings_views.reasons, name="settings-reasons"),
    path("settings/routing/", settings_views.routing, name="settings-routing"),
    path("settings/calendars/", settings_views.calendars, name="settings-calendars"),
]
