"""Sustained ingestion through the Segment-compatible /v1/batch endpoint.

    closedloop bench ingest [-s database=sqlite|postgres] [-s batches=1000] [-s seconds=120]
                            [-s clients=4] [-s resend=0.05] [-s worker=0] [-s threads=8]
                            [-s identify_every=1] [-s malformed=0.01]

Starts `closedloop serve` (waitress) on a free loopback port with a scratch data directory
(SQLite) or a scratch PostgreSQL database (`cl_bench_ingest`, dropped and recreated), creates
a source, identifies a pool of visitors, then sends `batches` batches of 100 messages from
`clients` keep-alive connections of this process (a separate process from the server). A share
`resend` of the batches is sent a second time, a little later, as an at-least-once client
would after a lost answer. Sending stops at `batches` or after `seconds`, whichever is first.

Each batch has 100 messages: page views and track events of known and anonymous visitors (a
fifth with utm campaign context) and, in every `identify_every`-th batch, one identify of a
new person in place of a touch (0 for none). Afterwards the database is
counted: every unique messageId acknowledged must be stored exactly once (touches by
Touchpoint.message_id, identifies by ReceivedMessage), so `stored` must equal `unique_sent`.

The background worker is off by default (`--no-worker`): the rescoring tasks the touches
announce are queued in the database, not run. `-s worker=1` runs one worker beside the
server, as `closedloop serve` does by default, competing for the same 2 cores.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import random
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
PG_DB = "cl_bench_ingest"
EVENTS_PER_BATCH = 100
IDENTIFIED_USERS = 500
ANONYMOUS_VISITORS = 50_000
TRACK_EVENTS = [
    "Content Viewed",
    "Email Opened",
    "Email Clicked",
    "Ad Clicked",
    "Asset Downloaded",
    "Webinar Attended",
    "Pricing Calculated",
]
CAMPAIGNS = [
    {"name": "Spring Launch", "source": "newsletter", "medium": "email"},
    {"name": "Brand Search", "source": "google", "medium": "cpc"},
    {"name": "LinkedIn ABM", "source": "linkedin", "medium": "paid_social"},
]


def run(**options) -> dict:
    database = options.get("database", "sqlite")
    if database not in ("sqlite", "postgres"):
        raise ValueError("database: sqlite or postgres")
    batches = int(options.get("batches", 1000))
    seconds = float(options.get("seconds", 120))
    clients = int(options.get("clients", 4))
    resend = float(options.get("resend", 0.05))
    worker = options.get("worker", "0") in ("1", "true", "yes")
    threads = int(options.get("threads", 8))
    identify_every = int(options.get("identify_every", 1))
    malformed = float(options.get("malformed", 0))
    data_dir = Path(tempfile.mkdtemp(prefix="cl-bench-ingest-"))
    env = _server_env(database, data_dir)
    server = None
    try:
        _prepare_database(database, env)
        key = _closedloop(env, "source", "create", "bench").strip().splitlines()[-1]
        port = _free_port()
        server = _start_server(env, port, threads, worker)
        run_id = secrets.token_hex(4)
        _identify_pool(port, key, run_id)
        schedule, bodies, batch_ids = _plan(run_id, batches, resend, identify_every, malformed)
        cpu_before = _cpu_seconds(server.pid)
        backends_before = _backend_cpu_seconds(database)
        load = _send(port, key, schedule, bodies, clients, seconds)
        server_cpu = _cpu_seconds(server.pid) - cpu_before
        database_cpu = _cpu_since(backends_before, _backend_cpu_seconds(database))
        stored = _count_stored(database, env, run_id)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if database == "postgres":
            _drop_pg_database()
        shutil.rmtree(data_dir, ignore_errors=True)
    unique_sent = sum(len(batch_ids[i]) for i in load["acknowledged"])
    latencies = sorted(load["latencies"])
    return {
        "database": database,
        "events_per_s": round(unique_sent / load["elapsed"], 1) if load["elapsed"] else 0,
        "events_per_s_with_resends": round(load["events_sent"] / load["elapsed"], 1),
        "p50_ms": _percentile(latencies, 0.50),
        "p99_ms": _percentile(latencies, 0.99),
        "max_ms": round(latencies[-1], 1) if latencies else None,
        "unique_sent": unique_sent,
        "stored": stored,
        "exactly_once": stored == unique_sent,
        "requests": len(latencies),
        "resent_batches": load["resends"],
        "errors": load["errors"],
        # Malformed messages mixed in (-s malformed): each must be rejected alone, with the
        # rest of its batch stored, and never cost a 5xx.
        "malformed_share": malformed,
        "rejected_messages": load["rejected"],
        "server_errors": load["server_errors"],
        "seconds": round(load["elapsed"], 2),
        # The server's own CPU time per request: what the figures would be bounded by on a
        # machine whose cores the server did not share with the load and other work.
        "server_cpu_ms_per_request": round(server_cpu * 1000 / max(1, len(latencies)), 2),
        # PostgreSQL's own backends serving the run, on the same cores (None on SQLite, whose
        # work is inside the server process). A lower bound: a backend that exited mid-run is
        # not counted.
        "database_cpu_ms_per_request": (
            round(database_cpu * 1000 / max(1, len(latencies)), 2)
            if database == "postgres"
            else None
        ),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "clients": clients,
        "server_threads": threads,
        "events_per_batch": EVENTS_PER_BATCH,
        "identify_every_n_batches": identify_every,
        "worker": worker,
        "cpus": os.cpu_count(),
    }


# --- the server ------------------------------------------------------------------------------


def _server_env(database: str, data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOSEDLOOP_")}
    env.update(
        CLOSEDLOOP_DATA_DIR=str(data_dir),
        CLOSEDLOOP_SECRET_KEY=secrets.token_urlsafe(40),
        CLOSEDLOOP_DEBUG="0",  # debug keeps every SQL query in memory
        CLOSEDLOOP_LOG_LEVEL="ERROR",
        DJANGO_SETTINGS_MODULE="closedloop.settings",
    )
    if database == "postgres":
        env["CLOSEDLOOP_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
    return env


def _closedloop(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "closedloop.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"closedloop {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def _prepare_database(database: str, env: dict) -> None:
    if database == "postgres":
        _drop_pg_database()
        with _pg_admin() as conn:
            conn.execute(f"CREATE DATABASE {PG_DB}")
    _closedloop(env, "migrate")


def _pg_admin():
    import psycopg

    return psycopg.connect(PG_ADMIN_URL, autocommit=True)


def _drop_pg_database() -> None:
    with _pg_admin() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(env: dict, port: int, threads: int, worker: bool) -> subprocess.Popen:
    args = [
        sys.executable,
        "-m",
        "closedloop.cli",
        "serve",
        "--port",
        str(port),
        "--threads",
        str(threads),
        "--worker" if worker else "--no-worker",
    ]
    server = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("closedloop serve exited before it answered")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/login/")
            if conn.getresponse().status < 500:
                return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise RuntimeError("closedloop serve did not answer within 120 s")


# --- the load --------------------------------------------------------------------------------


def _identify_pool(port: int, key: str, run_id: str) -> None:
    """Identify the known visitors first, as a site would over time (not measured)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for start in range(0, IDENTIFIED_USERS, EVENTS_PER_BATCH):
        batch = [
            {
                "type": "identify",
                "userId": f"{run_id}-u{n}",
                "anonymousId": f"{run_id}-k{n}",
                "messageId": f"pool-{run_id}-{n}",
                "traits": {
                    "email": f"known{n}@bench.example",
                    "firstName": f"Known{n}",
                    "company": f"Company {n % 300}",
                    "title": "Manager",
                },
            }
            for n in range(start, min(start + EVENTS_PER_BATCH, IDENTIFIED_USERS))
        ]
        status, _ = _post(conn, key, json.dumps({"batch": batch}).encode())
        if status != 200:
            raise RuntimeError(f"identifying the visitor pool failed with HTTP {status}")
    conn.close()


def _plan(run_id: str, batches: int, resend: float, identify_every: int = 1, malformed=0.0):
    """Pre-encoded bodies (so the sender spends no CPU on JSON while measuring) and the
    order to send them in: each resent batch goes again 5–50 places after its first send.
    A `malformed` share of the touches is replaced by a broken message (MALFORMED)."""
    rng = random.Random(7)
    bodies, batch_ids = [], []
    for b in range(batches):
        identifies = b % identify_every == 0 if identify_every > 0 else False
        touches = EVENTS_PER_BATCH - identifies
        messages = [_touch(rng, run_id, b * EVENTS_PER_BATCH + i) for i in range(touches)]
        if identifies:
            messages.append(_identify(run_id, b))
        batch_ids.append([m["messageId"] for m in messages if rng.random() >= malformed])
        texts = [
            json.dumps(m) if m["messageId"] in batch_ids[-1] else _malformed(rng, m)
            for m in messages
        ]
        body = '{"batch":[' + ",".join(texts) + '],"sentAt":' + json.dumps(_iso(time.time()))
        bodies.append((body + "}").encode())
    schedule = list(range(batches))
    for b in sorted(rng.sample(range(batches), int(batches * resend)), reverse=True):
        schedule.insert(min(len(schedule), schedule.index(b) + rng.randint(5, 50)), b)
    return schedule, bodies, batch_ids


# What careless or hostile senders put in a message, as JSON text: a lone UTF-16 surrogate,
# nesting thousands deep, a NUL character, no identity, a timestamp that is not a date.
MALFORMED = (
    lambda m: json.dumps({**m, "name": "cut emoji ?"}).replace("?", "\\ud83d"),
    lambda m: json.dumps({**m, "properties": None}).replace("null", "[" * 5000 + "]" * 5000),
    lambda m: json.dumps({**m, "event": "Signed\x00Up"}),
    lambda m: json.dumps({k: v for k, v in m.items() if k not in ("userId", "anonymousId")}),
    lambda m: json.dumps({**m, "timestamp": "yesterday"}),
)


def _malformed(rng: random.Random, message: dict) -> str:
    return rng.choice(MALFORMED)(message)


def _touch(rng: random.Random, run_id: str, n: int) -> dict:
    known = rng.random() < 0.4
    if known:
        who = rng.randrange(IDENTIFIED_USERS)
        ids = {"userId": f"{run_id}-u{who}", "anonymousId": f"{run_id}-k{who}"}
    else:
        ids = {"anonymousId": f"{run_id}-a{rng.randrange(ANONYMOUS_VISITORS)}"}
    path = f"/resources/{rng.choice(['pricing', 'blog/alignment', 'demo', 'case-studies'])}"
    context = {
        "library": {"name": "analytics.js", "version": "5.2.0"},
        "page": {"path": path, "url": f"https://www.bench.example{path}", "title": "Bench"},
        "userAgent": "Mozilla/5.0 (X11; Linux x86_64) bench",
    }
    if rng.random() < 0.2:
        context["campaign"] = rng.choice(CAMPAIGNS)
    message = {
        "messageId": f"{run_id}-{n}",
        "timestamp": _iso(time.time() - rng.random() * 86400),
        "context": context,
        **ids,
    }
    if rng.random() < 0.6:
        message.update(type="page", name=path.rsplit("/", 1)[-1].title())
    else:
        properties = {"asset": f"asset-{rng.randrange(40)}", "value": rng.randrange(100)}
        message.update(type="track", event=rng.choice(TRACK_EVENTS), properties=properties)
    return message


def _identify(run_id: str, b: int) -> dict:
    return {
        "type": "identify",
        "messageId": f"{run_id}-id{b}",
        "userId": f"{run_id}-new{b}",
        "anonymousId": f"{run_id}-a{b}",
        "traits": {
            "email": f"new{b}@bench.example",
            "name": f"New Person{b}",
            "title": "Director",
            "company": "Bench Corp",
        },
    }


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch % 1 * 1000):03d}Z"


def _post(conn: http.client.HTTPConnection, key: str, body: bytes) -> tuple[int, bytes]:
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    conn.request(
        "POST",
        "/v1/batch",
        body=body,
        headers={
            "Content-Type": "application/json",
            "Authorization": auth,
            "User-Agent": "closedloop-bench/1",
        },
    )
    response = conn.getresponse()
    return response.status, response.read()


def _send(port, key, schedule, bodies, clients, seconds) -> dict:
    """Send the schedule from `clients` keep-alive connections until done or out of time."""
    position = iter(range(len(schedule)))
    lock = threading.Lock()
    out = {
        "latencies": [],
        "acknowledged": set(),
        "errors": 0,
        "server_errors": 0,
        "rejected": 0,
        "events_sent": 0,
        "resends": 0,
    }
    seen: set[int] = set()
    deadline = time.monotonic() + seconds

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.monotonic() < deadline:
            with lock:
                step = next(position, None)
                if step is None:
                    return
                batch = schedule[step]
                out["resends"] += batch in seen
                seen.add(batch)
            started = time.perf_counter()
            try:
                status, body = _post(conn, key, bodies[batch])
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                status, body = 0, b""
            took = (time.perf_counter() - started) * 1000
            with lock:
                if status == 200:
                    out["latencies"].append(took)
                    out["acknowledged"].add(batch)
                    out["events_sent"] += EVENTS_PER_BATCH
                    out["rejected"] += body.count(b'"reason"')
                else:
                    out["errors"] += 1
                    out["server_errors"] += status >= 500 or status == 0

    started = time.monotonic()
    workers = [threading.Thread(target=client) for _ in range(clients)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    out["elapsed"] = time.monotonic() - started
    return out


# --- counting --------------------------------------------------------------------------------


def _count_stored(database: str, env: dict, run_id: str) -> int:
    queries = [
        "SELECT COUNT(*) FROM engagement_touchpoint WHERE message_id LIKE %s",
        "SELECT COUNT(*) FROM engagement_receivedmessage WHERE message_id LIKE %s",
    ]
    pattern = f"{run_id}-%"
    if database == "postgres":
        import psycopg

        with psycopg.connect(env["CLOSEDLOOP_DATABASE_URL"]) as conn:
            return sum(conn.execute(q, (pattern,)).fetchone()[0] for q in queries)
    path = Path(env["CLOSEDLOOP_DATA_DIR"]) / "closedloop.sqlite3"
    with sqlite3.connect(path) as conn:
        return sum(conn.execute(q.replace("%s", "?"), (pattern,)).fetchone()[0] for q in queries)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _backend_cpu_seconds(database: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to the bench database (Linux,
    local server); empty on SQLite."""
    if database != "postgres":
        return {}
    with _pg_admin() as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (PG_DB,),
        ).fetchall()
    return {pid: _cpu_seconds(pid) for (pid,) in rows}


def _cpu_since(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    index = min(len(values) - 1, max(0, round(q * (len(values) - 1))))
    return round(values[index], 1)
