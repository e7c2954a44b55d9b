from django.urls import path

from closedloop.content import views

urlpatterns = [
    path("content/", views.library, name="content-library"),
    path("content/new/", views.asset_new, name="content-asset-new"),
    path("content/gaps/", views.gaps, name="content-gaps"),
    path("content/<int:pk>/", views.asset_detail, name="content-asset"),
    path("content/<int:pk>/edit/", views.asset_edit, name="content-asset-edit"),
    path("content/<int:pk>/versions/", views.asset_version_new, name="content-version-new"),
    path("content/<int:pk>/publish/", views.asset_publish, name="content-asset-publish"),
    path("content/<int:pk>/retire/", views.asset_retire, name="content-asset-retire"),
    path(
        "content/<int:pk>/versions/<int:number>/file/",
        views.version_file,
        name="content-version-file",
    ),
]
