"""Background work of outgoing webhooks."""

from django_tasks import task

from closedloop.webhooks import services


@task()
def deliver_webhook(delivery_id: int) -> str:
    """POST one delivery; returns its status afterwards ("" if it was not due)."""
    delivery = services.deliver(delivery_id)
    return delivery.status if delivery is not None else ""


@task()
def retry_due_webhooks() -> int:
    """Attempt every delivery whose retry time has come (a safety net; see services)."""
    return services.retry_due_deliveries()
