"""Routes of sharing, usage reports and requests (the library's own are in urls.py)."""

from django.urls import path

from closedloop.content import report_views, request_views, share_views

urlpatterns = [
    path("s/<str:token>", share_views.open_share, name="content-share-open"),
    path("content/<int:pk>/share/", share_views.share, name="content-share"),
    path("content/share/", share_views.share_picked, name="content-share-picked"),
    path("content/<int:pk>/presented/", share_views.record, name="content-presented"),
    path("content/links/<int:pk>/revoke/", share_views.revoke, name="content-link-revoke"),
    path("content/report/", report_views.library_report, name="content-report"),
    path("content/<int:pk>/usage/", report_views.asset_usage, name="content-asset-usage"),
    path("content/requests/", request_views.request_queue, name="content-requests"),
    path("content/requests/new/", request_views.request_new, name="content-request-new"),
    path("content/requests/<int:pk>/", request_views.request_detail, name="content-request"),
    path(
        "content/requests/<int:pk>/take/", request_views.request_take, name="content-request-take"
    ),
    path(
        "content/requests/<int:pk>/fulfil/",
        request_views.request_fulfil,
        name="content-request-fulfil",
    ),
    path(
        "content/requests/<int:pk>/decline/",
        request_views.request_decline,
        name="content-request-decline",
    ),
]
