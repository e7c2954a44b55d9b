from django.urls import path

from closedloop.definitions import settings_views, views

urlpatterns = [
    path("definitions/", views.agreement, name="definitions"),
    path("settings/signers/", settings_views.signers, name="settings-signers"),
    path("definitions/new/", views.create_draft, name="definitions-new"),
    path("definitions/diff/", views.diff, name="definitions-diff"),
    path("definitions/criterion-row/", views.criterion_row, name="definitions-criterion-row"),
    path("definitions/removed-row/", views.removed_row, name="definitions-removed-row"),
    path("definitions/v<int:number>/", views.version_detail, name="definitions-version"),
    path("definitions/v<int:number>/edit/", views.edit_draft, name="definitions-edit"),
    path("definitions/v<int:number>/sign/", views.sign, name="definitions-sign"),
    path("definitions/v<int:number>/withdraw/", views.withdraw, name="definitions-withdraw"),
    path("definitions/v<int:number>/simulate/", views.simulate, name="definitions-simulate"),
]
