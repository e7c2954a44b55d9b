"""Helpers for the crm tests: hearing domain events, and posting the Django admin's forms."""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict

from tests.api.conftest import api_as  # noqa: F401 (the API client fixture, shared)


@pytest.fixture
def heard(django_capture_on_commit_callbacks):
    """heard(signal, action) runs `action`, commits, and returns the payloads `signal` sent;
    heard((signal, other), action) returns one list of payloads per signal.
    `heard.result` is what `action` returned."""

    def listen(signals, action):
        many = isinstance(signals, tuple)
        signals = signals if many else (signals,)
        payloads: list[list] = [[] for _ in signals]
        listeners = [
            lambda sender, payload=None, _out=out, **kwargs: _out.append(payload)
            for out in payloads
        ]
        for signal, listener in zip(signals, listeners, strict=True):
            signal.connect(listener)
        try:
            with django_capture_on_commit_callbacks(execute=True):
                listen.result = action()
        finally:
            for signal, listener in zip(signals, listeners, strict=True):
                signal.disconnect(listener)
        return payloads if many else payloads[0]

    return listen


def admin_form(instance, inlines: tuple[str, ...] = (), **changes) -> dict:
    """The POST body of the admin's change form for `instance`, with `changes` applied."""
    data = {}
    for name, value in model_to_dict(instance).items():
        if value is None or name in ("id", "contacts"):
            continue
        if hasattr(value, "isoformat") and hasattr(value, "hour"):
            data[f"{name}_0"], data[f"{name}_1"] = value.date().isoformat(), value.time()
            continue
        data[name] = value
    for prefix in inlines:
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    data.update(changes)
    return {k: ("" if v is None else v) for k, v in data.items()}
