"""`closedloop bench definitions`: the what-if simulation of a draft contract at scale.

    closedloop bench definitions -s leads=1000000 -s touches=5 -s seed=7

The stress case: every one of `leads` leads was created in the last 13 weeks, so the whole
table is replayed (a real company's 90-day window is a slice of its leads), with `touches`
touchpoints per lead on average. The data is synthetic (random firmographics and touch types)
and written straight into a scratch SQLite data directory with the demo loader's bulk writer;
a directory already loaded with the same options is reused (a million leads take minutes).

Then `simulate_contract` replays the 13 weeks under a draft (MQL bar lowered from 40 to 25) and
under the contract in force, `repeat` times, in a fresh process with production settings.
Prints {"leads", "touches", "load_s", "simulate_s" (median), "simulate_runs", "read_s"
(database to arrays, median), "compute_s" (both versions' 13 weekly replays, median),
"mqls": {"draft", "active"}}.

    closedloop bench definitions -s mode=compute -s leads=1000000 -s touches=5

The replay alone on the same kind of synthetic data built in memory (no database): the pure
part at sizes that take too long to load on a busy machine. Prints {"mode", "leads",
"touches", "compute_s" (median), "compute_runs", "mqls"}.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_SECRET = "closedloop-bench-only-secret-key-" + "d" * 32


def run(
    leads: str = "1000000",
    touches: str = "5",
    seed: str = "7",
    repeat: str = "3",
    workdir: str = "",
    mode: str = "database",
) -> dict:
    """mode=database: read from SQLite and replay (end to end); mode=compute: the replay alone,
    on arrays built in memory (no database), to see the pure part at sizes too slow to load."""
    if mode == "compute":
        return _compute_only(int(leads), float(touches), int(seed), int(repeat))
    base = Path(workdir or tempfile.gettempdir()) / "closedloop-bench-definitions"
    data_dir = base / f"leads{leads}-touches{touches}-seed{seed}"
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOSEDLOOP_")}
    env.update(
        {
            "CLOSEDLOOP_DATA_DIR": str(data_dir),
            "CLOSEDLOOP_SECRET_KEY": BENCH_SECRET,
            "CLOSEDLOOP_DEBUG": "0",
            "CLOSEDLOOP_TASK_BACKEND": "immediate",
            "DJANGO_SETTINGS_MODULE": "closedloop.settings",
        }
    )
    command = [sys.executable, __file__, str(data_dir), leads, touches, seed, repeat]
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def _compute_only(n_leads: int, per_lead: float, seed: int, repeat: int) -> dict:
    import copy

    import numpy as np

    from closedloop.definitions import simulation
    from closedloop.definitions.contract import parse_contract
    from closedloop.definitions.defaults import DEFAULT_CONTRACT

    rng = np.random.default_rng(seed)
    n_touches = int(n_leads * per_lead)
    pick = lambda values: np.asarray(values, dtype=object)[rng.integers(0, len(values), n_leads)]  # noqa: E731
    created = rng.uniform(0, 91, n_leads)
    lead = rng.integers(0, n_leads, n_touches)
    types = list(DEFAULT_CONTRACT["engagement"]["points"])
    history = simulation.History(
        columns={
            "industry": pick(["Software", "Retail", "Healthcare", "Financial services"]),
            "employees": np.exp(rng.normal(5, 1.5, n_leads)),
            "seniority": pick(["VP", "Director", "Manager", "Individual", "C-level"]),
            "country": pick(["US", "GB", "DE", "FR", "IN", "CA"]),
            "email": pick(["a@corp.example", "b@gmail.com"]),
        },
        created_day=created,
        touch_lead=lead,
        touch_type=rng.integers(0, len(types), n_touches),
        type_names=types,
        touch_day=np.minimum(91, created[lead] - 5 + rng.exponential(20, n_touches)),
        reached_opportunity=rng.random(n_leads) < 0.1,
        won=rng.random(n_leads) < 0.04,
    )
    draft = copy.deepcopy(DEFAULT_CONTRACT)
    draft["mql_rule"]["min_engagement"] = 25
    week_ends = np.arange(1, 14, dtype=float) * 7
    seconds, cpu = [], []
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        ordered = history.in_time_order()  # once for both versions, as simulate_contract does
        outcomes = [
            simulation.simulate(ordered, parse_contract(body), week_ends)
            for body in (draft, DEFAULT_CONTRACT)
        ]
        seconds.append(round(time.perf_counter() - started, 3))
        cpu.append(round(time.process_time() - cpu_started, 3))
    return {
        "mode": "compute",
        "leads": n_leads,
        "touches": n_touches,
        "compute_s": statistics.median(seconds),
        "compute_runs": seconds,
        # CPU seconds of this process: on a shared machine, wall time also counts the waiting.
        "compute_cpu_s": statistics.median(cpu),
        "mqls": {"draft": outcomes[0].mqls, "active": outcomes[1].mqls},
    }


# ---- everything below runs inside the measuring subprocess -------------------------------


def _load(n_leads: int, per_lead: float, seed: int) -> None:
    import numpy as np
    from django.utils import timezone

    from closedloop.core.audit import record_bulk
    from closedloop.core.db.columns import fast_load, write_columns
    from closedloop.core.db.indexes import indexes_dropped
    from closedloop.crm.models import Lead, LifecycleStage
    from closedloop.engagement.models import Touchpoint, TouchpointType

    rng = np.random.default_rng(seed)
    now = int(timezone.now().timestamp())
    window = 13 * 7 * 86400
    created = now - 3600 - rng.integers(0, window - 7200, n_leads)
    pick = lambda values, p=None: np.asarray(values, dtype=object)[  # noqa: E731
        rng.choice(len(values), n_leads, p=p)
    ]
    stages = [
        LifecycleStage.LEAD,
        LifecycleStage.MQL,
        LifecycleStage.OPPORTUNITY,
        LifecycleStage.CUSTOMER,
    ]
    ids = np.arange(1, n_leads + 1)
    with fast_load(), indexes_dropped(Lead), indexes_dropped(Touchpoint):
        write_columns(
            Lead,
            {
                "id": ids,
                "created_at": created,
                "updated_at": created,
                "industry": pick(
                    ["Software", "Retail", "Healthcare", "Financial services", "Education"]
                ),
                "employees": np.exp(rng.normal(5, 1.5, n_leads)).astype(np.int64),
                "seniority": pick(["VP", "Director", "Manager", "Individual", "C-level"]),
                "country": pick(["US", "GB", "DE", "FR", "IN", "CA"]),
                "email": np.char.add(np.char.add("p", ids.astype(str)), "@corp.example").astype(
                    object
                ),
                "lifecycle_stage": pick([str(s) for s in stages], p=[0.8, 0.1, 0.06, 0.04]),
            },
        )
        n_touches = int(n_leads * per_lead)
        lead = rng.integers(1, n_leads + 1, n_touches)
        age = rng.exponential(20 * 86400, n_touches).astype(np.int64)
        occurred = np.maximum(created[lead - 1] - 5 * 86400, now - age)
        kinds = list(TouchpointType.values)
        write_columns(
            Touchpoint,
            {
                "id": np.arange(1, n_touches + 1),
                "lead_id": lead,
                "occurred_at": occurred,
                "received_at": occurred,
                "type": np.asarray(kinds, dtype=object)[rng.integers(0, len(kinds), n_touches)],
            },
        )
    record_bulk(Lead, count=n_leads, description="bench definitions: synthetic leads")


def _measure(data_dir: Path, n_leads: int, per_lead: float, seed: int, repeat: int) -> dict:
    import django

    django.setup()
    from django.core.management import call_command

    from closedloop.core.models import Role, User
    from closedloop.definitions import services

    marker = data_dir / "bench-loaded.json"
    wanted = {"leads": n_leads, "touches": per_lead, "seed": seed}
    load_s = None
    if not (marker.exists() and json.loads(marker.read_text()) == wanted):
        for name in ("closedloop.sqlite3", "closedloop.sqlite3-wal", "closedloop.sqlite3-shm"):
            (data_dir / name).unlink(missing_ok=True)
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        _load(n_leads, per_lead, seed)
        load_s = round(time.perf_counter() - started, 1)
        marker.write_text(json.dumps(wanted))
    author = User.objects.filter(role=Role.MARKETING).first() or User.objects.create_user(
        email="bench-marketing@example.com", role=Role.MARKETING
    )
    body = services.active_contract_body()
    body["mql_rule"]["min_engagement"] = 25
    draft = services.create_draft(by=author, body=body, change_note="bench")
    runs, cpu = [], []
    for _ in range(repeat):
        cpu_started = time.process_time()
        runs.append(services.simulate_contract(draft))
        cpu.append(time.process_time() - cpu_started)
    services.withdraw_draft(draft, by=author)
    median = lambda key: round(statistics.median(r[key] for r in runs), 3)  # noqa: E731
    return {
        "leads": runs[0]["leads"],
        "touches": runs[0]["touches"],
        "database": "sqlite",
        "load_s": load_s,
        "simulate_s": median("seconds"),
        "simulate_runs": [r["seconds"] for r in runs],
        "simulate_cpu_s": round(statistics.median(cpu), 3),
        "read_s": median("load_seconds"),
        "compute_s": round(statistics.median(r["seconds"] - r["load_seconds"] for r in runs), 3),
        "mqls": {"draft": runs[0]["candidate"]["mqls"], "active": runs[0]["active"]["mqls"]},
    }


if __name__ == "__main__":
    directory, leads_arg, touches_arg, seed_arg, repeat_arg = sys.argv[1:6]
    result = _measure(
        Path(directory), int(leads_arg), float(touches_arg), int(seed_arg), int(repeat_arg)
    )
    print(json.dumps(result))
