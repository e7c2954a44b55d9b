from django.urls import path

from closedloop.campaigns import views

urlpatterns = [
    path("campaigns/", views.campaign_list, name="campaign-list"),
    path("campaigns/new/", views.campaign_new, name="campaign-new"),
    path("campaigns/<int:pk>/edit/", views.campaign_edit, name="campaign-edit"),
]
