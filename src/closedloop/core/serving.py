"""`closedloop serve`: waitress in front, one background worker beside it, both stopped together.

Behind a TLS-terminating proxy, waitress must be told which peer is the proxy: only then does it
take the scheme and the client address from the forwarded headers (and it removes those headers
from every other peer, so nobody can forge them). See docs/decisions/0010-proxy-and-https.md.
"""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys

from django.conf import settings

_PR_SET_PDEATHSIG = 1


def waitress_options() -> dict:
    """waitress keyword arguments for the trusted-proxy settings (none without a proxy)."""
    if not settings.TRUSTED_PROXY:
        return {}
    return {
        "trusted_proxy": settings.TRUSTED_PROXY,
        "trusted_proxy_count": settings.TRUSTED_PROXY_COUNT,
        "trusted_proxy_headers": " ".join(settings.TRUSTED_PROXY_HEADERS),
        "clear_untrusted_proxy_headers": True,
    }


def _die_with_parent() -> None:
    # Linux only: should `serve` itself be killed outright (SIGKILL, OOM killer), the kernel
    # sends the worker SIGTERM, so it never outlives the server.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def start_worker() -> subprocess.Popen:
    """One `closedloop worker --quiet` child process."""
    return subprocess.Popen(
        [sys.executable, "-m", "closedloop.cli", "worker", "--quiet"],
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
    )


def stop_worker(worker: subprocess.Popen, *, grace: float = 10) -> None:
    """Ask the worker to finish its current task and exit; kill it after `grace` seconds."""
    if worker.poll() is not None:
        return
    worker.terminate()
    try:
        worker.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def _stop(signum, frame) -> None:
    raise SystemExit(128 + signum)


def stop_on_signals() -> None:
    """SIGTERM (systemd, docker stop, kill) ends `serve` like Ctrl+C does.

    Python's default for SIGTERM kills the process on the spot, skipping the clean-up that
    stops the worker; raising SystemExit instead lets waitress close and the clean-up run.
    """
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
