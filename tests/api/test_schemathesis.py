"""Schemathesis against the live API: every operation, every check (schema conformance,
server errors, schema-valid data accepted, schema-violating data refused, auth, stateful
links), a fixed seed and a bounded number of examples. A failure prints schemathesis's own
report with a curl line to reproduce it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from closedloop.core.services import create_api_token
from closedloop.crm.models import LifecycleStage
from closedloop.engagement.models import Touchpoint
from closedloop.webhooks import netguard
from tests.factories import make_lead, make_opportunity

CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = 5
SEED = 2026


def _no_dns(host, port):
    raise netguard.UnsafeDestination(f"no DNS in tests ({host})")


@pytest.mark.django_db(transaction=True)
def test_every_operation_passes_every_schemathesis_check(
    live_server, ada, alice, settings, monkeypatch, tmp_path
):
    settings.API_RATE_LIMIT = "off"
    monkeypatch.setattr(netguard, "resolve", _no_dns)  # generated webhook hosts stay offline
    lead = make_lead(owner=alice, stage=LifecycleStage.MQL, assigned_at=timezone.now())
    make_opportunity(owner=alice)
    Touchpoint.objects.create(lead=lead, type="form", occurred_at=timezone.now())
    secret = create_api_token(user=ada, name="schemathesis")[1]

    run = subprocess.run(
        [
            str(Path(sys.executable).with_name("st")),
            "--config-file",
            str(CONFIG),
            "run",
            f"{live_server.url}/api/v1/openapi.json",
            "--header",
            f"Authorization: Bearer {secret}",
            "--checks",
            "all",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--seed",
            str(SEED),
            "--no-color",
            # A shared, busy machine: slow answers are load, not failures.
            "--request-timeout",
            "120",
            "--wait-for-schema",
            "120",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )

    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-2000:]
