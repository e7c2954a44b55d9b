"""closedloop settings, read once from CLOSEDLOOP_* environment variables.

Every command (`closedloop serve`, `worker`, `demo`, ...) and the test suite read the same
variables, so a script can point any of them at a scratch database:

  CLOSEDLOOP_DEBUG          1 for the development profile (default 0)
  CLOSEDLOOP_SECRET_KEY     required outside debug; CLOSEDLOOP_SECRET_KEY_FILE reads it from a file
  CLOSEDLOOP_DATA_DIR       where the embedded SQLite database and uploads live (default ./var)
  CLOSEDLOOP_DATABASE_URL   e.g. postgres://user@host:5432/db; SQLite in DATA_DIR when unset
  CLOSEDLOOP_ALLOWED_HOSTS  comma separated (default 127.0.0.1,localhost)
  CLOSEDLOOP_TASK_BACKEND   database (default), immediate (run in-process) or rq
  CLOSEDLOOP_REDIS_URL      for the rq task backend
  CLOSEDLOOP_CACHE_URL      redis://… to share the cache between processes (default: per process)
  CLOSEDLOOP_SECURE         1 behind HTTPS: secure cookies, HSTS, SSL redirect
  CLOSEDLOOP_EMAIL_HOST, _PORT, _USER, _PASSWORD(_FILE), _USE_TLS, _FROM   outgoing email
  CLOSEDLOOP_API_RATE_LIMIT requests per API token, e.g. 600/min (default) or off
  CLOSEDLOOP_CONTENT_MAX_UPLOAD_MB  largest content-library upload in MB (default 50)
"""

import datetime
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from closedloop.env import env_bool, env_int, env_list, env_str, env_words

BASE_DIR = Path(__file__).resolve().parent

DEBUG = env_bool("CLOSEDLOOP_DEBUG", False)
SECURE = env_bool("CLOSEDLOOP_SECURE", False)
DATA_DIR = Path(env_str("CLOSEDLOOP_DATA_DIR", str(Path.cwd() / "var"))).resolve()

_INSECURE_KEY = "closedloop-insecure-development-key-do-not-use-in-production"
SECRET_KEY = env_str("CLOSEDLOOP_SECRET_KEY", "", file_allowed=True) or _INSECURE_KEY
if SECRET_KEY == _INSECURE_KEY and not DEBUG:
    # A guessable key signs sessions and CSRF tokens; refuse it outside debug.
    raise ImproperlyConfigured(
        "CLOSEDLOOP_SECRET_KEY (or CLOSEDLOOP_SECRET_KEY_FILE) must be set"
        " unless CLOSEDLOOP_DEBUG=1"
    )

ALLOWED_HOSTS = env_list("CLOSEDLOOP_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CLOSEDLOOP_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # serves the Swagger UI at /api/v1/docs from local static files
    "django_tasks",
    "django_tasks_db",
    "axes",  # counts failed logins per account and per address, and locks them out
    "csp",  # the Content-Security-Policy header
    "closedloop.core",
    "closedloop.crm",
    "closedloop.campaigns",
    "closedloop.content",
    "closedloop.engagement",
    "closedloop.definitions",
    "closedloop.scoring",
    "closedloop.handoff",
    "closedloop.analytics",
    "closedloop.imports",
    "closedloop.webhooks",
    "closedloop.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "closedloop.core.accounts.LockedAddressMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "closedloop.core.middleware.AuditSourceMiddleware",
    "closedloop.core.ratelimit.ApiRateLimitMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes requires: it turns a lockout into the 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "closedloop.urls"
WSGI_APPLICATION = "closedloop.wsgi.application"
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "login"
LOGIN_PATH = "/login/"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "closedloop.core.context_processors.navigation",
            ],
        },
    },
]


def _database() -> dict:
    url = env_str("CLOSEDLOOP_DATABASE_URL", "")
    if url:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        config.setdefault("TEST", {})
        return config
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(DATA_DIR / "closedloop.sqlite3"),
        "OPTIONS": {
            # WAL lets readers run beside the one writer; FULL sync keeps committed data on a
            # crash; IMMEDIATE takes the write lock at BEGIN so two writers queue on
            # busy_timeout instead of failing with "database is locked" mid-transaction.
            # Checkpoint the WAL every 10,000 pages (~40 MB) instead of 1,000: an index page
            # that many commits change is then copied into the database once per checkpoint,
            # not every few commits (tracking ingestion: ~20% less server CPU, see
            # docs/decisions/0005-tracking-ingestion.md).
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000;"
                "PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;"
                "PRAGMA wal_autocheckpoint=10000;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        },
        "TEST": {"NAME": str(DATA_DIR / "test.sqlite3")},
        # Keep each server thread's connection: a new one per request re-runs the PRAGMAs and
        # starts with a cold page cache (measured: ~5x slower small tracking requests).
        "CONN_MAX_AGE": 600,
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_TASK_BACKENDS = {
    "database": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "scoring"]},
    "immediate": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["default", "scoring"],
    },
    "rq": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default", "scoring"]},
}
_task_backend = env_str("CLOSEDLOOP_TASK_BACKEND", "database")
if _task_backend not in _TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"CLOSEDLOOP_TASK_BACKEND must be one of {', '.join(_TASK_BACKENDS)}, not {_task_backend!r}"
    )
TASKS = {"default": _TASK_BACKENDS[_task_backend]}
if _task_backend == "rq":
    INSTALLED_APPS.append("django_rq")  # its rqworker command runs the RQ queues
RQ_QUEUES = {
    "default": {"URL": env_str("CLOSEDLOOP_REDIS_URL", "redis://127.0.0.1:6379/0")},
    "scoring": {"URL": env_str("CLOSEDLOOP_REDIS_URL", "redis://127.0.0.1:6379/0")},
}

# Rate limits, the dashboard snapshot and looked-up keys live in the cache. The default is
# per process; with several processes or machines, point them at one Redis.
_cache_url = env_str("CLOSEDLOOP_CACHE_URL", "")
if _cache_url.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _cache_url,
        }
    }
elif _cache_url:
    raise ImproperlyConfigured(f"CLOSEDLOOP_CACHE_URL must be a redis:// URL, not {_cache_url!r}")
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# An import of at least this many rows into SQLite drops the target table's secondary indexes
# and builds them after it (closedloop.imports.indexes, closedloop.core.db.indexes).
IMPORT_INDEX_DROP_ROWS = env_int("CLOSEDLOOP_IMPORT_INDEX_DROP_ROWS", 50_000)
# Public web forms (/f/<key>): submissions allowed per client IP, "count/seconds".
CLOSEDLOOP_FORM_RATE_LIMIT = env_str("CLOSEDLOOP_FORM_RATE_LIMIT", "10/60")
# Raw touch properties older than this many days are emptied daily (0 keeps them forever);
# the touches themselves stay, so scores and counts do not change.
TOUCH_PROPERTIES_RETENTION_DAYS = env_int("CLOSEDLOOP_TOUCH_PROPERTIES_RETENTION_DAYS", 0)
# The content library refuses uploads above this many megabytes (the file is never stored).
CONTENT_MAX_UPLOAD_MB = env_int("CLOSEDLOOP_CONTENT_MAX_UPLOAD_MB", 50)
# Requests per API token (e.g. 600/min, 10/s, 5000/hour, or off), counted in the cache above.
API_RATE_LIMIT = env_str("CLOSEDLOOP_API_RATE_LIMIT", "600/min")

# django-axes is asked first: a locked-out account or address is refused before any password
# is hashed, so a flood of guesses costs a cache-sized lookup, not a key derivation each.
AUTHENTICATION_BACKENDS = [
    "closedloop.core.accounts.LockoutBackend",
    "closedloop.core.accounts.ThrottledModelBackend",
]
LOGIN_FAILURE_LIMIT = env_int("CLOSEDLOOP_LOGIN_FAILURE_LIMIT", 5)
LOGIN_LOCKOUT_MINUTES = env_int("CLOSEDLOOP_LOGIN_LOCKOUT_MINUTES", 15)
AXES_FAILURE_LIMIT = max(LOGIN_FAILURE_LIMIT, 1)
AXES_HANDLER = (
    "axes.handlers.database.AxesDatabaseHandler"
    if LOGIN_FAILURE_LIMIT > 0
    else "axes.handlers.dummy.AxesDummyHandler"  # 0 turns the lockout off
)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
# Either one locks: the account (whoever guesses) and the address (whichever accounts it tries).
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# A refused attempt during a lockout is not written down: a flood then costs no writes.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "closedloop.core.accounts.login_address"
AXES_USERNAME_CALLABLE = "closedloop.core.accounts.login_username"
AXES_LOCKOUT_CALLABLE = "closedloop.core.accounts.lockout_response"
AXES_VERBOSE = False
# Reset links by email: valid for 3 days, and each client address may ask for 5 an hour.
PASSWORD_RESET_TIMEOUT = 3 * 86400
PASSWORD_RESET_RATE_LIMIT = env_str("CLOSEDLOOP_PASSWORD_RESET_RATE_LIMIT", "5/hour")

# Content-Security-Policy: scripts, styles, fonts and fetches from this site only. The pages
# keep no inline script or style (htmx and Chart.js are static files), so no 'unsafe-inline'.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# collectstatic fills it (`closedloop serve` runs it); whitenoise warns if it is missing.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "media/"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Serve straight from the app folders without collectstatic in debug and tests.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE
SECURE_HSTS_SECONDS = 31536000 if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE

# Behind a reverse proxy: the proxy's address (or * for any peer, e.g. a container network).
# `closedloop serve` passes these to waitress, which then takes the scheme and the client address
# from the forwarded headers of that peer only and drops them from everyone else.
TRUSTED_PROXY = env_str("CLOSEDLOOP_TRUSTED_PROXY", "").strip()
TRUSTED_PROXY_COUNT = env_int("CLOSEDLOOP_TRUSTED_PROXY_COUNT", 1)
TRUSTED_PROXY_HEADERS = env_words(
    "CLOSEDLOOP_TRUSTED_PROXY_HEADERS",
    ["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port"],
    allowed=[
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
        "x-forwarded-port",
        "x-forwarded-by",
        "forwarded",
    ],
)
# For other WSGI servers: trust the proxy's X-Forwarded-Proto only when a proxy is configured
# (without one, any client could claim HTTPS). waitress drops the header from untrusted peers.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY else None

# Outgoing email: SLA escalations and the weekly feedback digest.
EMAIL_HOST = env_str("CLOSEDLOOP_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("CLOSEDLOOP_EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("CLOSEDLOOP_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("CLOSEDLOOP_EMAIL_PASSWORD", "", file_allowed=True)
EMAIL_USE_TLS = env_bool("CLOSEDLOOP_EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = env_str("CLOSEDLOOP_EMAIL_FROM", "closedloop@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("CLOSEDLOOP_LOG_LEVEL", "WARNING")},
}
