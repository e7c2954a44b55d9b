"""`closedloop bench import`: a HubSpot contact export of N rows through `closedloop import`.

Generates a realistic HubSpot contact export (HubSpot's column names and value codes, a few
bad emails and duplicate addresses as real exports have) into a temporary folder, migrates a
scratch SQLite database there, and runs `closedloop import FILE --kind leads --format hubspot`
in a child process so that its own CPU time and peak memory can be measured.

The import runs with the default task backend (the database), as `closedloop import` does: the
rescoring of the imported leads it queues is run by a worker, not by the import. With
`rescore=1` (the default) the benchmark then runs `closedloop worker --batch` and reports that
work separately (`rescore_*`), so neither figure hides the other.

    closedloop bench import -s rows=1000000

Target (issue 5): 1,000,000 rows in under 3 minutes, peak memory under 512 MB.
"""

from __future__ import annotations

import csv
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

HEADER = [
    "Record ID",
    "First Name",
    "Last Name",
    "Email",
    "Phone Number",
    "Job Title",
    "Company Name",
    "Lifecycle Stage",
    "Lead Status",
    "Create Date",
    "Original Source",
    "Industry",
    "Number of Employees",
    "Country/Region",
    "City",
    "Last Activity Date",
    "Marketing contact status",
]
FIRST = [
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jon",
    "Kemi",
    "Liam",
    "Maya",
    "Noor",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Uma",
    "Vik",
]
LAST = [
    "Smith",
    "Okafor",
    "Garcia",
    "Chen",
    "Müller",
    "Rossi",
    "Novak",
    "Khan",
    "Silva",
    "Kim",
    "Dubois",
    "Nakamura",
    "Larsen",
    "O'Brien",
    "Haddad",
    "Kowalski",
    "Jensen",
    "Patel",
]
TITLES = [
    "CEO",
    "CTO",
    "VP Marketing",
    "Director of Sales",
    "Marketing Manager",
    "Engineer",
    "Head of Growth",
    "Analyst",
    "Operations Lead",
    "CFO",
]
STAGES = [
    "subscriber",
    "lead",
    "lead",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
]
STATUSES = ["NEW", "OPEN", "IN_PROGRESS", "ATTEMPTED_TO_CONTACT", "CONNECTED", "UNQUALIFIED", ""]
SOURCES = [
    "ORGANIC_SEARCH",
    "PAID_SEARCH",
    "EMAIL_MARKETING",
    "SOCIAL_MEDIA",
    "REFERRALS",
    "DIRECT_TRAFFIC",
    "OFFLINE",
    "OTHER_CAMPAIGNS",
]
INDUSTRIES = [
    "Software",
    "Financial services",
    "Healthcare",
    "Retail",
    "Manufacturing",
    "Education",
    "",
]
SIZES = ["1-10", "11-50", "51-200", "201-500", "501-1000", "1001-5000", "5001-10000", "10000+"]
COUNTRIES = [
    "United States",
    "United Kingdom",
    "Germany",
    "Canada",
    "France",
    "Australia",
    "India",
    "Brazil",
    "",
]
CITIES = ["Boston", "London", "Berlin", "Toronto", "Paris", "Sydney", "Pune", "São Paulo", ""]


def generate(path: Path, rows: int, *, seed: int = 5) -> None:
    """Write a HubSpot contact export: ~0.2% bad emails and ~0.1% repeated addresses."""
    rng = random.Random(seed)
    start = datetime(2023, 1, 1)
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for n in range(1, rows + 1):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            company = f"{rng.choice(LAST)} {rng.choice(['Labs', 'Group', 'Inc', 'GmbH', 'Ltd'])}"
            roll = rng.random()
            if roll < 0.002:
                email = f"{first.lower()}.{n}@broken"
            elif roll < 0.003 and n > 10:
                email = f"contact{rng.randrange(1, n - 1)}@example.com"
            else:
                email = f"contact{n}@example.com"
            created = start + timedelta(minutes=rng.randrange(0, 2 * 365 * 24 * 60))
            writer.writerow(
                [
                    10_000_000 + n,
                    first,
                    last,
                    email,
                    f"+1 555 {rng.randrange(1000000):07d}",
                    rng.choice(TITLES),
                    company,
                    rng.choice(STAGES),
                    rng.choice(STATUSES),
                    created.strftime("%Y-%m-%d %H:%M"),
                    rng.choice(SOURCES),
                    rng.choice(INDUSTRIES),
                    rng.choice(SIZES),
                    rng.choice(COUNTRIES),
                    rng.choice(CITIES),
                    (created + timedelta(days=rng.randrange(0, 90))).strftime("%Y-%m-%d %H:%M"),
                    rng.choice(["Marketing contact", "Non-marketing contact"]),
                ]
            )


def _env(data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "CLOSEDLOOP_DATABASE_URL"}
    env.update(
        CLOSEDLOOP_DATA_DIR=str(data_dir),
        CLOSEDLOOP_DEBUG="0",
        CLOSEDLOOP_SECRET_KEY="benchmark-only-" + "k" * 40,
        CLOSEDLOOP_TASK_BACKEND="database",
        DJANGO_SETTINGS_MODULE="closedloop.settings",
    )
    return env


def _child(command: list[str], *, env: dict, cwd: Path) -> tuple[float, float, float]:
    """Run `command`; returns its (wall seconds, CPU seconds, peak RSS MB), its own alone."""
    began = time.perf_counter()
    with open(cwd / "child.log", "ab") as log:
        child = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=log)
        _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - began
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise subprocess.CalledProcessError(child.returncode, command)
    # ru_maxrss is in KiB on Linux.
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def run(
    rows: str = "1000000", chunk_size: str = "5000", keep: str = "0", rescore: str = "1"
) -> dict:
    count = int(rows)
    folder = Path(tempfile.mkdtemp(prefix="closedloop-bench-import-"))
    data_dir = folder / "data"
    csv_path = folder / "hubspot-contacts.csv"
    began = time.perf_counter()
    generate(csv_path, count)
    generated = time.perf_counter() - began
    env = _env(data_dir)
    cli = [sys.executable, "-m", "closedloop.cli"]
    subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True)
    seconds, cpu, peak_mb = _child(
        [
            *cli,
            "import",
            str(csv_path),
            "--kind",
            "leads",
            "--format",
            "hubspot",
            "--no-progress",
            "--chunk-size",
            chunk_size,
            "--errors",
            str(folder / "errors.csv"),
        ],
        env=env,
        cwd=folder,
    )
    load = os.getloadavg()[0]
    database = data_dir / "closedloop.sqlite3"
    with sqlite3.connect(database) as db:
        created, updated, skipped, failed = db.execute(
            "SELECT created, updated, skipped, failed FROM imports_importjob ORDER BY id DESC"
        ).fetchone()
        leads = db.execute("SELECT COUNT(*) FROM crm_lead").fetchone()[0]
        queued = db.execute(RESCORE_TASKS.format(columns="COUNT(*)")).fetchone()[0]
    result = {
        "rows": count,
        "seconds": round(seconds, 1),
        "rows_per_s": round(count / seconds),
        # On a shared machine wall time also counts waiting: the import's own CPU time.
        "cpu_seconds": round(cpu, 1),
        "load_average": round(load, 1),
        "peak_rss_mb": round(peak_mb, 1),
        "created": created,
        "updated": updated,
        "skipped": skipped,
        "failed": failed,
        "leads_in_db": leads,
        "accounted": created + updated + skipped + failed == count,
        "file_mb": round(csv_path.stat().st_size / 2**20, 1),
        "generate_seconds": round(generated, 1),
        "database": "sqlite",
        "chunk_size": int(chunk_size),
        "rescore_tasks_queued": queued,
    }
    if rescore == "1" and queued:
        result.update(_rescore(cli, env=env, cwd=folder, database=database))
    if keep != "1":
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    else:
        result["folder"] = str(folder)
    return result


# The worker also queues its periodic tasks (retraining, SLA checks): count ours only.
RESCORE_TASKS = (
    "SELECT {columns} FROM django_tasks_database_dbtaskresult WHERE task_path LIKE '%rescore%'"
)


def _rescore(cli: list[str], *, env: dict, cwd: Path, database: Path) -> dict:
    """Run the queued rescoring of the imported leads, as `closedloop worker` would."""
    seconds, cpu, peak_mb = _child([*cli, "worker", "--batch"], env=env, cwd=cwd)
    with sqlite3.connect(database) as db:
        states = dict(
            db.execute(RESCORE_TASKS.format(columns="status, COUNT(*)") + " GROUP BY status")
        )
        mql = db.execute("SELECT COUNT(*) FROM crm_lead WHERE lifecycle_stage = 'mql'").fetchone()
        scored = db.execute("SELECT COUNT(*) FROM crm_lead WHERE scored_at IS NOT NULL").fetchone()
    return {
        "rescore_seconds": round(seconds, 1),
        "rescore_cpu_seconds": round(cpu, 1),
        "rescore_peak_rss_mb": round(peak_mb, 1),
        "rescore_tasks": states,
        "leads_scored": scored[0],
        "leads_mql": mql[0],
    }
