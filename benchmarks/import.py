"""`closedloop bench import`: a HubSpot contact export of N rows through `closedloop import`.

Generates a realistic HubSpot contact export (HubSpot's column names and value codes, a few
bad emails and duplicate addresses as real exports have) into a temporary folder, migrates a
scratch SQLite database there, and runs `closedloop import FILE --kind leads --format hubspot`
in a child process so that its peak memory can be measured.

    closedloop bench import -s rows=1000000

Target (issue 5): 1,000,000 rows in under 3 minutes, peak memory under 512 MB.
"""

from __future__ import annotations

import csv
import os
import random
import resource
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
        CLOSEDLOOP_TASK_BACKEND="immediate",
        DJANGO_SETTINGS_MODULE="closedloop.settings",
    )
    return env


def run(rows: str = "1000000", chunk_size: str = "5000", keep: str = "0") -> dict:
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
    began = time.perf_counter()
    subprocess.run(
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
        check=True,
        capture_output=True,
        cwd=folder,
    )
    seconds = time.perf_counter() - began
    # ru_maxrss of children is in KiB on Linux: the largest child, i.e. the import.
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_mb = children.ru_maxrss / 1024
    # CPU of the children (migrate + import): on a shared machine, wall time also counts waiting.
    cpu = children.ru_utime + children.ru_stime
    with sqlite3.connect(data_dir / "closedloop.sqlite3") as db:
        created, updated, skipped, failed = db.execute(
            "SELECT created, updated, skipped, failed FROM imports_importjob ORDER BY id DESC"
        ).fetchone()
        leads = db.execute("SELECT COUNT(*) FROM crm_lead").fetchone()[0]
    result = {
        "rows": count,
        "seconds": round(seconds, 1),
        "rows_per_s": round(count / seconds),
        "child_cpu_seconds": round(cpu, 1),
        "load_average": round(os.getloadavg()[0], 1),
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
    }
    if keep != "1":
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    else:
        result["folder"] = str(folder)
    return result
