"""`closedloop bench login_flood`: does a flood of wrong passwords slow everybody else down?

    closedloop bench login_flood -s threads=16 -s seconds=5 -s protect=1

Starts `closedloop serve` (waitress, no worker) on 127.0.0.1 with a scratch SQLite data folder
and Django's production password hasher, behind a pretend proxy (CLOSEDLOOP_TRUSTED_PROXY=
127.0.0.1), so the attacker and the other user get their own addresses from X-Forwarded-For.

1. quiet: another, logged-in user loads a page (GET /tokens/) back to back for `seconds`.
2. flood: `threads` threads post wrong passwords for one account as fast as the server answers
   (each with a valid CSRF token, as a real attacker would), while the other user does the same
   as in step 1.

Loopback only and bounded in time. `protect=0` turns the lockout off
(CLOSEDLOOP_LOGIN_FAILURE_LIMIT=0), which shows what the flood did before it.

Prints {"quiet": {...}, "flood": {...}, "p95_ratio", "attempts", "attempt_statuses", ...}.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
_OTHER_ADDRESS = "198.51.100.7"
_ATTACKER_ADDRESS = "203.0.113.66"


def run(threads: str = "16", seconds: str = "5", protect: str = "1") -> dict:
    """Measure the other user's page latency, quiet and under a login flood; one result."""
    with tempfile.TemporaryDirectory(prefix="closedloop-login-flood-") as folder:
        env = _environment(Path(folder), protect=protect == "1")
        other_password = _prepare(env)
        port = _free_port()
        server = _start_server(env, port)
        try:
            return _measure(port, other_password, int(threads), float(seconds), protect)
        finally:
            server.terminate()
            server.wait(timeout=30)


def _environment(folder: Path, *, protect: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOSEDLOOP_")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(
        CLOSEDLOOP_DATA_DIR=str(folder),
        CLOSEDLOOP_SECRET_KEY=secrets.token_urlsafe(50),
        CLOSEDLOOP_TRUSTED_PROXY="127.0.0.1",
        CLOSEDLOOP_API_RATE_LIMIT="off",
        CLOSEDLOOP_LOGIN_FAILURE_LIMIT="5" if protect else "0",
    )
    return env


def _closedloop(env: dict, *args: str) -> str:
    command = [sys.executable, "-m", "closedloop.cli", *args]
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout


def _prepare(env: dict) -> str:
    _closedloop(env, "migrate")
    _closedloop(env, "createuser", "victim@example.com", "--role", "rep")
    out = _closedloop(env, "createuser", "other@example.com", "--role", "rep")
    return out.strip().splitlines()[-1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(env: dict, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "closedloop.cli", "serve", "--no-worker", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("closedloop serve did not start")


class _Browser:
    """One HTTP/1.1 connection with a cookie jar, speaking for one client address."""

    def __init__(self, port: int, address: str):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.address = address
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str = "") -> tuple[int, bytes]:
        headers = {"X-Forwarded-For": self.address, "Host": "127.0.0.1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        content = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, content

    def log_in(self, email: str, password: str) -> int:
        status, page = self.request("GET", "/login/")
        if status != 200:  # a locked-out address is turned away at the login page itself
            return status
        token = _TOKEN.search(page).group(1).decode()
        form = f"csrfmiddlewaretoken={token}&username={email}&password={password}"
        return self.request("POST", "/login/", form)[0]


def _page_times(browser: _Browser, stop: threading.Event, seconds: float) -> list[float]:
    samples = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not stop.is_set():
        started = time.perf_counter()
        status, _ = browser.request("GET", "/tokens/")
        samples.append((time.perf_counter() - started) * 1000)
        assert status == 200, f"the other user's page answered {status}"
    return samples


def _attack(port: int, until: float, statuses: Counter, lock: threading.Lock) -> None:
    attacker = _Browser(port, _ATTACKER_ADDRESS)
    while time.monotonic() < until:
        try:
            status = attacker.log_in("victim@example.com", secrets.token_hex(6))
        except (OSError, http.client.HTTPException):
            attacker = _Browser(port, _ATTACKER_ADDRESS)
            status = 0
        with lock:
            statuses[status] += 1


def _summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(ordered[-1], 1),
        "n": len(ordered),
    }


def _measure(port: int, password: str, threads: int, seconds: float, protect: str) -> dict:
    other = _Browser(port, _OTHER_ADDRESS)
    assert other.log_in("other@example.com", password) == 302, "the other user cannot log in"
    _page_times(other, threading.Event(), 1.0)  # warm up
    quiet = _page_times(other, threading.Event(), seconds)
    statuses: Counter = Counter()
    lock = threading.Lock()
    until = time.monotonic() + seconds
    attackers = [
        threading.Thread(target=_attack, args=(port, until, statuses, lock)) for _ in range(threads)
    ]
    for attacker in attackers:
        attacker.start()
    flood = _page_times(other, threading.Event(), seconds)
    for attacker in attackers:
        attacker.join()
    quiet_summary, flood_summary = _summary(quiet), _summary(flood)
    return {
        "protect": protect == "1",
        "threads": threads,
        "seconds": seconds,
        "quiet": quiet_summary,
        "flood": flood_summary,
        "p95_ratio": round(flood_summary["p95_ms"] / quiet_summary["p95_ms"], 2),
        "attempts": sum(statuses.values()),
        "attempts_per_second": round(sum(statuses.values()) / seconds, 1),
        "attempt_statuses": {str(k): v for k, v in sorted(statuses.items())},
        "loadavg": os.getloadavg(),
    }
