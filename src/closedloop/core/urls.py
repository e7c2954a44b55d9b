from django.contrib.auth import views as auth_views
from django.urls import path

from closedloop.core import settings_views, views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="core/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.revoke_token, name="revoke-token"),
    path("settings/", settings_views.settings_home, name="settings"),
    path("settings/users/", settings_views.users, name="settings-users"),
    path("settings/users/<int:pk>/", settings_views.user_edit, name="settings-user"),
    path("settings/teams/", settings_views.teams, name="settings-teams"),
    path("welcome/<str:uidb64>/<str:token>/", settings_views.set_password, name="set-password"),
]
