from django.urls import path

from closedloop.engagement import tracking_views, views

urlpatterns = [
    # The Segment HTTP tracking API, at the site root like api.segment.io/v1/...
    *[
        path(f"v1/{kind}", tracking_views.single, {"kind": kind}, name=f"segment-{kind}")
        for kind in ("identify", "track", "page", "screen", "group", "alias")
    ],
    path("v1/batch", tracking_views.batch, name="segment-batch"),
    path("v1/import", tracking_views.batch, name="segment-import"),
    path("f/<str:form_key>", views.form_capture, name="form-capture"),
    path("tracking/sources/", views.sources, name="tracking-sources"),
    path("tracking/sources/<int:pk>/", views.source_detail, name="tracking-source"),
    path("tracking/forms/", views.forms, name="tracking-forms"),
    path("tracking/forms/<int:pk>/", views.form_detail, name="tracking-form"),
]
