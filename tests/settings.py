"""Test settings: the production settings with a throwaway key and in-process tasks."""

import os

# A throwaway key, whatever the shell exported: tests never sign with a real secret.
os.environ.pop("CLOSEDLOOP_SECRET_KEY_FILE", None)
os.environ["CLOSEDLOOP_SECRET_KEY"] = "test-only-key-" + "x" * 40
os.environ.setdefault("CLOSEDLOOP_TASK_BACKEND", "immediate")

from closedloop.settings import *  # noqa: E402,F403
from closedloop.settings import STORAGES  # noqa: E402

# Fast hashing: the suite creates many users; production keeps Django's default.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Serve static files from the app folders: the browser tests run without collectstatic.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# One SQLite test database per pytest process, so parallel runs never share (or delete) a file.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")}  # noqa: F405

# Live-server threads must not keep sessions open: PostgreSQL cannot drop a test database
# while a connection to it lives.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
