"""Tracking sources and web forms: their keys, their settings, and finding them by key.

Write keys and form keys are random secrets of which only a SHA-256 is stored (like API
tokens: 24+ random bytes leave nothing to brute-force, so a fast hash is enough). A source's
settings are cached in the process for a few seconds, because every tracking request asks for
them; changes made through these functions clear the cache at once in this process, and other
processes see them within CACHE_SECONDS.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from closedloop.engagement.models import EventMapping, Form, Source, TouchpointType

WRITE_KEY_PREFIX = "wk_"
FORM_KEY_PREFIX = "fk_"
CACHE_SECONDS = 10.0
_LAST_SEEN_EVERY = 60.0


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class SourceConfig:
    """What the ingestion path needs of a source, cached per process."""

    id: int
    name: str
    event_types: dict[str, str] = field(default_factory=dict)  # casefolded event → type


_cache: dict[str, tuple[float, SourceConfig | None]] = {}
_last_seen: dict[int, float] = {}
_lock = threading.Lock()


def forget_cached_sources() -> None:
    with _lock:
        _cache.clear()


def source_for_key(write_key: str) -> SourceConfig | None:
    """The active source whose write key this is, or None."""
    if not write_key or len(write_key) > 200 or not write_key.isascii():
        return None  # keys are ASCII; other text (a lone surrogate) could not even be hashed
    digest = hash_key(write_key)
    now = time.monotonic()
    hit = _cache.get(digest)
    if hit is not None and hit[0] > now:
        config = hit[1]
    else:
        config = _load_source(digest)
        with _lock:
            _cache[digest] = (now + CACHE_SECONDS, config)
    if config is not None:
        _note_seen(config.id, now)
    return config


def _load_source(digest: str) -> SourceConfig | None:
    source = Source.objects.filter(key_hash=digest, is_active=True).first()
    if source is None:
        return None
    pairs = EventMapping.objects.filter(source=source).values_list("event_name", "touchpoint_type")
    event_types = {name.casefold(): kind for name, kind in pairs}
    return SourceConfig(id=source.pk, name=source.name, event_types=event_types)


def _note_seen(source_id: int, now: float) -> None:
    # At most one write a minute per source and process: busy senders must not add a write
    # to every request.
    if now - _last_seen.get(source_id, -_LAST_SEEN_EVERY) < _LAST_SEEN_EVERY:
        return
    _last_seen[source_id] = now
    Source.objects.filter(pk=source_id).update(last_received_at=timezone.now())


def create_source(*, name: str, by=None) -> tuple[Source, str]:
    """Create a tracking source; returns it and its write key, which is not stored."""
    name = name.strip()
    if not name:
        raise ValueError("name: give the source a name")
    if Source.objects.filter(name__iexact=name).exists():
        raise ValueError(f"name: a source called {name!r} already exists")
    secret = WRITE_KEY_PREFIX + secrets.token_urlsafe(24)
    source = Source.objects.create(
        name=name[:100], key_prefix=secret[:8], key_hash=hash_key(secret), created_by=by
    )
    return source, secret


def rotate_source_key(source: Source) -> str:
    """Give the source a new write key (the old one stops working); returns the new key."""
    secret = WRITE_KEY_PREFIX + secrets.token_urlsafe(24)
    source.key_prefix, source.key_hash = secret[:8], hash_key(secret)
    source.save(update_fields=["key_prefix", "key_hash"])
    forget_cached_sources()
    return secret


def set_source_active(source: Source, *, active: bool) -> None:
    source.is_active = active
    source.save(update_fields=["is_active"])
    forget_cached_sources()


@transaction.atomic
def set_event_mapping(*, source: Source, event_name: str, touchpoint_type: str) -> EventMapping:
    """Map a track event name to a touchpoint type for this source (replacing any mapping)."""
    event_name = event_name.strip()
    if not event_name:
        raise ValueError("event_name: name the track event")
    if touchpoint_type not in TouchpointType.values:
        raise ValueError(f"touchpoint_type: {touchpoint_type!r} is not a touchpoint type")
    mapping, _ = EventMapping.objects.update_or_create(
        source=source,
        event_name=event_name[:200],
        defaults={"touchpoint_type": touchpoint_type},
    )
    forget_cached_sources()
    return mapping


def delete_event_mapping(mapping: EventMapping) -> None:
    mapping.delete()
    forget_cached_sources()


def create_form(
    *, name: str, campaign=None, allowed_origins: str = "", redirect_url: str = "", by=None
) -> tuple[Form, str]:
    """Create a web form; returns it and its key (part of the form's address), not stored."""
    name = name.strip()
    if not name:
        raise ValueError("name: give the form a name")
    origins = _checked_origins(allowed_origins)
    redirect_url = redirect_url.strip()
    if redirect_url and not _HTTP_URL.match(redirect_url):
        raise ValueError(f"redirect_url: {redirect_url[:80]!r} is not an http(s) address")
    secret = FORM_KEY_PREFIX + secrets.token_urlsafe(18)
    form = Form.objects.create(
        name=name[:100],
        key_prefix=secret[:8],
        key_hash=hash_key(secret),
        campaign=campaign,
        allowed_origins="\n".join(origins),
        redirect_url=redirect_url,
        created_by=by,
    )
    return form, secret


_HTTP_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$", re.IGNORECASE)
_ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:\d+)?$", re.IGNORECASE)


def _checked_origins(text: str) -> list[str]:
    """Origins one a line (or space separated), each scheme://host[:port] without a path."""
    origins = [line.strip().rstrip("/") for line in text.split() if line.strip()]
    for origin in origins:
        if not _ORIGIN.match(origin):
            raise ValueError(
                f"allowed_origins: {origin[:80]!r} is not an origin like https://www.example.com"
            )
    return origins


def rotate_form_key(form: Form) -> str:
    secret = FORM_KEY_PREFIX + secrets.token_urlsafe(18)
    form.key_prefix, form.key_hash = secret[:8], hash_key(secret)
    form.save(update_fields=["key_prefix", "key_hash"])
    return secret


def form_for_key(form_key: str) -> Form | None:
    if not form_key.startswith(FORM_KEY_PREFIX) or len(form_key) > 100 or not form_key.isascii():
        return None
    return (
        Form.objects.select_related("campaign")
        .filter(key_hash=hash_key(form_key), is_active=True)
        .first()
    )
