from django.urls import path

from closedloop.webhooks import views

urlpatterns = [
    path("webhooks/", views.endpoint_list, name="webhook-list"),
    path("webhooks/<int:pk>/", views.endpoint_detail, name="webhook-endpoint"),
    path("webhooks/<int:pk>/toggle/", views.toggle_endpoint, name="webhook-toggle"),
    path("webhooks/<int:pk>/test/", views.test_endpoint, name="webhook-test"),
    path("webhooks/<int:pk>/rotate-secret/", views.rotate_endpoint_secret, name="webhook-rotate"),
    path("webhooks/deliveries/<int:pk>/redeliver/", views.redeliver, name="webhook-redeliver"),
    path("webhooks/retry-due/", views.retry_due, name="webhook-retry-due"),
    path("webhooks/hosts/", views.add_host, name="webhook-host-add"),
    path("webhooks/hosts/<int:pk>/remove/", views.remove_host, name="webhook-host-remove"),
]
