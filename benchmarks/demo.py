"""How fast `closedloop demo` loads: a fresh SQLite data directory, `closedloop migrate`, then
`closedloop demo --leads N --seed S`, each a subprocess like a user's shell would run them.

    closedloop bench demo -s leads=20000
    closedloop bench demo -s leads=1000000     # the 10-minute target: ~10M touchpoints

Prints {leads, touchpoints, rows, seconds (the demo command, wall clock), load_seconds (as the
loader reports it, without interpreter start-up), rows_per_s, database, database_mb, and the
machine's 1-minute load average before and after}.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_LOADED = re.compile(
    r"Loaded the demo company: ([\d,]+) leads, ([\d,]+) touchpoints, ([\d,]+) rows in ([\d.]+) s"
)


def _command(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "closedloop.cli", *args],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"closedloop {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def run(leads: str = "20000", seed: str = "7", keep: str = "0") -> dict:
    data_dir = Path(tempfile.mkdtemp(prefix="closedloop-bench-demo-"))
    env = {k: v for k, v in os.environ.items() if k != "CLOSEDLOOP_DATABASE_URL"}
    env.update(
        CLOSEDLOOP_DATA_DIR=str(data_dir),
        CLOSEDLOOP_SECRET_KEY=secrets.token_urlsafe(40),
        CLOSEDLOOP_DEBUG="0",
        CLOSEDLOOP_TASK_BACKEND="immediate",
    )
    try:
        _command(env, "migrate")
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        output = _command(
            env, "demo", "--leads", str(int(leads)), "--seed", str(int(seed)), "--no-score"
        )
        seconds = time.perf_counter() - started
        match = _LOADED.search(output)
        if match is None:
            raise RuntimeError(f"unexpected output of closedloop demo:\n{output}")
        lead_count, touches, rows = (int(match[i].replace(",", "")) for i in (1, 2, 3))
        size = sum(p.stat().st_size for p in data_dir.glob("closedloop.sqlite3*"))
        return {
            "leads": lead_count,
            "touchpoints": touches,
            "rows": rows,
            "seconds": round(seconds, 1),
            "load_seconds": float(match[4]),
            "rows_per_s": round(rows / seconds),
            "database": "sqlite",
            "database_mb": round(size / 2**20),
            "cpus": os.cpu_count(),
            # Other work on the machine slows the load; say how busy it was.
            "load_average_1m": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        }
    finally:
        if keep != "1":
            shutil.rmtree(data_dir, ignore_errors=True)
