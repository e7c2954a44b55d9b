"""Fixed-window rate limits kept in Django's cache, and the per-token limit of the JSON API.

The counters live in the default cache, so the limit holds per process with the local-memory
cache and across every process once the cache is Redis or memcached (their `incr` is atomic).
A fixed window lets a client spend up to twice the limit across a window boundary; that is the
price of one counter per client and window, and is fine for protecting the server.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import JsonResponse

_UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "min": 60,
    "m": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*$")


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    def __str__(self) -> str:
        return f"{self.count} requests per {self.seconds} s"


@functools.lru_cache(maxsize=32)
def parse_rate(text: str) -> Rate | None:
    """'600/min', '10/s', '5000/hour', '100/10s'; 'off' or '' means no limit."""
    if text.strip().lower() in ("", "off", "none", "0"):
        return None
    match = _RATE.match(text.lower())
    if match is None or match.group(3) not in _UNITS or int(match.group(1)) < 1:
        raise ImproperlyConfigured(
            f"a rate looks like 600/min, 10/s, 5000/hour or off, not {text!r}"
        )
    multiple = int(match.group(2) or 1)
    return Rate(count=int(match.group(1)), seconds=multiple * _UNITS[match.group(3)])


@dataclass(frozen=True)
class Quota:
    """The outcome of one hit: whether it is allowed and what is left of the window."""

    limit: int
    remaining: int
    reset_at: int  # Unix time, seconds, when the window ends
    allowed: bool
    retry_after: int  # seconds until the window ends, at least 1


def hit(key: str, rate: Rate, *, now: float | None = None) -> Quota:
    """Count one request for `key` in the current window of `rate`."""
    now = time.time() if now is None else now
    window = int(now // rate.seconds)
    reset_at = (window + 1) * rate.seconds
    cache_key = f"ratelimit:{key}:{rate.seconds}:{window}"
    # Keep the counter a little past its window so a slow clock never resurrects it early.
    timeout = rate.seconds + 5
    cache.add(cache_key, 0, timeout)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # evicted or expired between add and incr
        cache.set(cache_key, 1, timeout)
        count = 1
    return Quota(
        limit=rate.count,
        remaining=max(rate.count - count, 0),
        reset_at=reset_at,
        allowed=count <= rate.count,
        retry_after=max(1, math.ceil(reset_at - now)),
    )


def client_address(request) -> str:
    """The address of the client, for the rate limits.

    REMOTE_ADDR only: `closedloop serve` (waitress) sets it from X-Forwarded-For when, and only
    when, the request came from CLOSEDLOOP_TRUSTED_PROXY. Read from anyone else, a
    forwarded-for header is the sender's to forge.
    """
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def api_client_key(request) -> str:
    """The bucket of an API request: its bearer token (hashed), else the client address.

    The token is not looked up here, so throttled requests cost no database query; an
    invalid token only spends its own bucket and then gets 401 from authentication.
    """
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() == "bearer" and secret.strip():
        return "token:" + hashlib.sha256(secret.strip().encode()).hexdigest()[:32]
    return "ip:" + client_address(request)


class ApiRateLimitMiddleware:
    """Limits each API token to CLOSEDLOOP_API_RATE_LIMIT requests (e.g. 600/min).

    Every response under /api/ carries X-RateLimit-Limit, X-RateLimit-Remaining and
    X-RateLimit-Reset (Unix time in seconds); over the limit the answer is 429 with
    Retry-After, before the request reaches authentication or the database.
    """

    prefix = "/api/"

    def __init__(self, get_response):
        self.get_response = get_response
        parse_rate(settings.API_RATE_LIMIT)  # refuse a malformed setting at start-up

    def __call__(self, request):
        rate = parse_rate(settings.API_RATE_LIMIT)
        if rate is None or not request.path.startswith(self.prefix):
            return self.get_response(request)
        quota = hit(api_client_key(request), rate)
        if quota.allowed:
            response = self.get_response(request)
        else:
            response = _too_many(rate, quota)
        response["X-RateLimit-Limit"] = str(quota.limit)
        response["X-RateLimit-Remaining"] = str(quota.remaining)
        response["X-RateLimit-Reset"] = str(quota.reset_at)
        return response


def _too_many(rate: Rate, quota: Quota) -> JsonResponse:
    problem = f"rate limit of {rate} exceeded; retry in {quota.retry_after} s"
    response = JsonResponse(
        {"errors": [{"field": "Authorization", "problem": problem}]}, status=429
    )
    response["Retry-After"] = str(quota.retry_after)
    return response
