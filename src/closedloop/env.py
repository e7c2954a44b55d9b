"""Tiny helpers that read CLOSEDLOOP_* settings and fail loudly on a bad value."""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str, *, file_allowed: bool = False) -> str:
    """The variable's value; with file_allowed, NAME_FILE may name a file holding it (secrets)."""
    if file_allowed and os.environ.get(f"{name}_FILE"):
        path = Path(os.environ[f"{name}_FILE"])
        try:
            return path.read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {path}: {exc}") from exc
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be 1/0/true/false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_words(name: str, default: list[str], *, allowed: list[str]) -> list[str]:
    """Words separated by commas or spaces, each one of `allowed` (lower-cased)."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    words = [word.lower() for word in raw.replace(",", " ").split()]
    unknown = [word for word in words if word not in allowed]
    if unknown:
        raise ImproperlyConfigured(
            f"{name}: unknown value {', '.join(unknown)}; allowed: {', '.join(allowed)}"
        )
    return words


def setup_django() -> None:
    """Configure Django from closedloop.settings (what every `closedloop` command does first).

    Here rather than in cli.py so that the apps' own command groups can call it without
    importing the command that imports them."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "closedloop.settings")
    import django

    django.setup()
