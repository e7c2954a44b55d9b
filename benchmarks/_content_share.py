"""The share-link part of `closedloop bench content`: how fast a buyer's `/s/<token>` answers.

Loads (or reuses) the demo company in a scratch SQLite data directory (the loader of `bench
pages`), adds one published PDF asset, creates `opens` share links of it to random demo leads,
and then, in a fresh subprocess through Django's test Client (no HTTP server), opens each link
once: the worst case, since every first open records a content-view touch (which queues the
lead's rescore), counts the view and notifies the rep, in one transaction.

The reference in the same run: the same file fetched by a logged-in rep from the library's own
download route (`content-version-file`): the cost of serving that file without the tracking.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path


def _pages_loader():
    path = Path(__file__).with_name("pages.py")
    spec = importlib.util.spec_from_file_location("closedloop_bench_pages_loader", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def measure(*, leads: int, seed: int, opens: int, base: Path) -> dict:
    loader = _pages_loader()
    data_dir = base / f"leads{leads}-seed{seed}"
    loader._ensure_loaded(data_dir, leads, seed)
    # The database task queue, as in production: an open queues the rescore, never runs it.
    env = {**loader._env(data_dir), "CLOSEDLOOP_TASK_BACKEND": "database"}
    command = [sys.executable, __file__, str(opens), str(seed)]
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def _percentiles(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(p95, 2),
        "max_ms": round(ordered[-1], 2),
        "n": len(ordered),
    }


def _timed(client, urls: list[str], expect: int) -> list[float]:
    samples = []
    for url in urls:
        start = time.perf_counter()
        response = client.get(url)
        if response.status_code != expect:
            raise RuntimeError(f"{url}: {response.status_code}")
        b"".join(response.streaming_content) if response.streaming else response.content
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _setup(opens: int, seed: int):
    """A published PDF asset, `opens` links of it to random leads of demo reps, and a rep."""
    import io

    from django.urls import reverse
    from tests.content.files import pdf_bytes

    from closedloop.content import services
    from closedloop.content.services import sharing
    from closedloop.core.models import Role, User
    from closedloop.crm.models import Lead

    marketer = User.objects.filter(role=Role.MARKETING).first()
    data = io.BytesIO(pdf_bytes("A one-pager for the share-link benchmark"))
    asset = services.create_asset(
        by=marketer, upload=services.Upload(data, "bench.pdf"), title="Bench", extract_now=True
    )
    services.publish_asset(asset, by=marketer)
    rng = random.Random(seed)
    ids = list(Lead.objects.filter(owner__role=Role.REP).values_list("pk", flat=True)[:50_000])
    urls = []
    for lead in Lead.objects.select_related("owner").filter(pk__in=rng.sample(ids, opens)):
        _link, token = sharing.share_asset(asset, lead=lead, by=lead.owner, days=30)
        urls.append(reverse("content-share-open", args=[token]))
    rep = User.objects.filter(role=Role.REP).first()
    number = asset.current_version.number
    direct = reverse("content-version-file", args=[asset.pk, number])
    return urls, rep, direct


def _main(opens: int, seed: int) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "closedloop.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    django.setup()
    from django.test import Client

    urls, rep, direct = _setup(opens, seed)
    buyer = Client()
    _timed(buyer, urls[:5], 200)  # warm up: templates, first queries
    samples = _timed(buyer, urls[5:], 200)
    signed_in = Client()
    signed_in.force_login(rep)
    reference = _timed(signed_in, [direct] * len(samples), 200)
    print(
        json.dumps(
            {
                "share_open": _percentiles(samples),
                "reference_library_download": _percentiles(reference),
                "target_p95_ms": 30,
            }
        )
    )


if __name__ == "__main__":
    _main(int(sys.argv[1]), int(sys.argv[2]))
