from django.urls import path

from closedloop.crm import views

urlpatterns = [
    path("", views.home, name="home"),
    path("leads/", views.lead_list, name="lead-list"),
    path("leads/<int:pk>/", views.lead_detail, name="lead-detail"),
]
