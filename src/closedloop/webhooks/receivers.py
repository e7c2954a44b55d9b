"""Turn every domain event in closedloop.core.events.EVENTS into webhook deliveries."""

from closedloop.core.events import EVENTS


def _receiver_for(event: str):
    def receive(sender, payload=None, **kwargs):
        from closedloop.webhooks.services import queue_event

        queue_event(event=event, payload=payload or {})

    return receive


for _event, _signal in EVENTS.items():
    # weak=False: the receivers are closures that nothing else keeps alive.
    _signal.connect(_receiver_for(_event), weak=False, dispatch_uid=f"webhooks:{_event}")
