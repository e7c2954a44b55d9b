"""Turn every domain event in closedloop.core.events.EVENTS into webhook deliveries."""

from django.db.models.signals import post_delete, post_save

from closedloop.core.events import EVENTS


def _receiver_for(event: str):
    def receive(sender, payload=None, **kwargs):
        from closedloop.webhooks.services import queue_event

        queue_event(event=event, payload=payload or {})

    return receive


for _event, _signal in EVENTS.items():
    # weak=False: the receivers are closures that nothing else keeps alive.
    _signal.connect(_receiver_for(_event), weak=False, dispatch_uid=f"webhooks:{_event}")


def _endpoints_changed(sender, **kwargs):
    from closedloop.webhooks.services import forget_subscriptions

    forget_subscriptions()


for _signal in (post_save, post_delete):
    _signal.connect(
        _endpoints_changed, sender="webhooks.Endpoint", dispatch_uid=f"webhooks:endpoints:{_signal}"
    )
