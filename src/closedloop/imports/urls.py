from django.urls import path

from closedloop.imports import views

urlpatterns = [
    path("imports/", views.imports_home, name="imports"),
    path("imports/<int:pk>/", views.import_detail, name="import-detail"),
    path("imports/<int:pk>/progress/", views.import_progress, name="import-progress"),
    path("imports/<int:pk>/resume/", views.import_resume, name="import-resume"),
    path("imports/<int:pk>/errors.csv", views.import_errors, name="import-errors"),
    path("exports/<str:kind>.csv", views.export_csv, name="export-csv"),
]
