from django.urls import path

from closedloop.scoring import views

urlpatterns = [
    path("scoring/", views.scoring_page, name="scoring"),
    path("scoring/retrain/", views.retrain, name="scoring-retrain"),
]
