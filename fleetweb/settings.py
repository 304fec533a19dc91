"""fleetweb settings.

Everything comes from the environment (or a `.env` file beside manage.py) through django-environ.
The defaults are the embedded mode: SQLite, no Redis, Celery tasks run in-process. Production sets
DATABASE_URL, REDIS_URL and SECRET_KEY; see `.env.example` and docs/operations.md.
"""

import warnings
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

from fleetweb.surfaces import parse_surfaces

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG and not env.bool("FLEETWEB_EMBEDDED", default=False):
        raise ImproperlyConfigured("SECRET_KEY must be set (or DEBUG=true / FLEETWEB_EMBEDDED=true)")
    # Embedded/dev mode only: a random key made on first start and kept in var/, so sessions
    # survive restarts and nobody can derive the key from the checkout path.
    _key_file = BASE_DIR / "var" / "secret_key"
    if not _key_file.exists():
        import secrets as _secrets

        _key_file.parent.mkdir(parents=True, exist_ok=True)
        _key_file.write_text(_secrets.token_urlsafe(50))
        _key_file.chmod(0o600)
    SECRET_KEY = _key_file.read_text().strip()

# The embedded quick start answers agents on whatever name or address reaches this machine (its
# certificate names the machine too); production lists its names explicitly.
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS",
    default=["*"] if env.bool("FLEETWEB_EMBEDDED", default=False) else ["localhost", "127.0.0.1", "[::1]"],
)
# Agents reach the server by the name in their --tls_hostname; accept it.
_tls_host = env.str("FLEET_TLS_HOSTNAME", default="localhost:8443").rsplit(":", 1)[0]
if _tls_host not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append(_tls_host)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Behind a load balancer that terminates TLS (deploy/nginx/): trust its X-Forwarded-Proto so
# Django knows the request was HTTPS. Only enable it when the app port is unreachable otherwise.
if env.bool("FLEETWEB_BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    # The admin with fleetweb's role checks (fleetweb/admin_site.py).
    "fleetweb.apps.FleetAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "hosts",
    "queries",
    "collector",
    "accounts",
    "ui",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "fleetweb.unavailable.DependencyDownMiddleware",
    # Serves the UI's and the admin's static files from the app directories: no collectstatic step
    # and no separate web server needed.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "fleetweb.csp.ContentSecurityPolicyMiddleware",
]

# Which surfaces this node serves (fleetweb/surfaces.py): agent, operator or all. An agent-only
# node skips the session, auth, CSRF and message middleware, which agent requests never use and
# which cost CPU on every check-in.
FLEETWEB_SURFACES = parse_surfaces(env.str("FLEETWEB_SURFACES", default="all"))
if "operator" not in FLEETWEB_SURFACES:
    MIDDLEWARE = ["django.middleware.security.SecurityMiddleware", "django.middleware.common.CommonMiddleware"]
    # The admin app stays installed (models, migrations) but is not routed on this node. Agent
    # endpoints authenticate with node keys, not cookies, and reply with JSON only, so CSRF
    # protection and X-Frame-Options have nothing to protect here (check --deploy W003, W002).
    SILENCED_SYSTEM_CHECKS = ["admin.E408", "admin.E409", "admin.E410", "security.W002", "security.W003"]

# Agent nodes answer osquery's node endpoints at the WSGI layer, before Django's request cycle
# (collector/node/wsgi.py); false serves them through the Django views alone, with the same replies.
FLEETWEB_AGENT_FAST_PATH = env.bool("FLEETWEB_AGENT_FAST_PATH", default=True)

ROOT_URLCONF = "fleetweb.urls"
WSGI_APPLICATION = "fleetweb.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ui.access.roles",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.mysql":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"charset": "utf8mb4", "init_command": "SET sql_mode='STRICT_TRANS_TABLES'"}
    )
    DATABASES["default"].setdefault("TEST", {}).update({"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"})
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded server writes from request threads and the beat thread at once: wait for the
    # lock instead of failing, take it at the start of a transaction (no upgrade deadlocks), and
    # let readers run beside the writer (WAL).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# A health check is one more database round trip on every request that uses the database. Agent
# nodes skip it: a connection that died fails one agent request, which the agent retries (it keeps
# its data), and Django closes that connection once the request ends.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default="operator" in FLEETWEB_SURFACES)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis carries the agent hot path (node-key cache, pending live queries, last-seen batching) and
# Celery. Without REDIS_URL an in-process stand-in is used, which only works with one server process.
REDIS_URL = env.str("REDIS_URL", default="")

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 120
CELERY_TASK_TIME_LIMIT = 180
CELERY_BEAT_SCHEDULE: dict[str, Any] = {
    "hosts-flush-last-seen": {"task": "hosts.tasks.last_seen_flush_task", "schedule": 10.0},
    "queries-expire-campaigns": {"task": "queries.tasks.campaign_expire_task", "schedule": 15.0},
    "collector-expire-carves": {"task": "collector.tasks.carve_expire_task", "schedule": 3600.0},
    # Picks up batches and events whose task was lost (worker killed, broker down at enqueue).
    "collector-sweep": {"task": "collector.tasks.collector_sweep_task", "schedule": 5.0},
    "collector-prune": {"task": "collector.tasks.collector_prune_task", "schedule": 600.0},
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
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
# Without `collectstatic` there is no STATIC_ROOT; the finders serve everything, so whitenoise's
# warning about the missing directory is noise.
warnings.filterwarnings("ignore", message="No directory at: ")

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "ui:dashboard"
LOGOUT_REDIRECT_URL = "login"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.auth.BearerTokenAuthentication",
        "api.auth.SessionAuthentication",
    ],
    # Any active user; each view narrows this to its role rule (api.permissions, accounts.roles).
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.Authenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "api.errors.fleet_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "api.schema.RoleAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "fleetweb REST API",
    "DESCRIPTION": "Fleet-compatible REST API under /api/v1/fleet/. Differences from Fleet are listed in docs/api.md.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "PREPROCESSING_HOOKS": ["api.schema.drop_aliases"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # One INFO line per SIEM request is noise; failures are recorded on the destination.
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # One line per task run drowns the embedded server's log (beat runs every few seconds).
        "celery.app.trace": {"level": "WARNING"},
    },
}

# Deployment security. FLEETWEB_HTTPS=true is the production profile (docs/operations.md,
# deploy/production.env.example): every browser and agent reaches fleetweb over HTTPS, either on
# granian's own TLS or through a TLS-terminating proxy (then set FLEETWEB_BEHIND_TLS_PROXY=true,
# above, so Django trusts its X-Forwarded-Proto, or the redirect below would loop). Agents are unaffected by
# the redirect: osquery only ever speaks HTTPS.
FLEETWEB_HTTPS = env.bool("FLEETWEB_HTTPS", default=False)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=FLEETWEB_HTTPS)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = FLEETWEB_HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if FLEETWEB_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=FLEETWEB_HTTPS)
# The header only allows browsers' preload lists to include the domain; nothing is submitted.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=FLEETWEB_HTTPS)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
# Sent on HTML pages (fleetweb/csp.py). The UI and the admin load scripts and styles from their
# own static files only, so no inline code is allowed; agent-supplied strings that slipped past
# escaping still could not run.
FLEETWEB_CSP = env.str(
    "FLEETWEB_CSP",
    default=(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
)

# fleetweb's own knobs. Read them through fleetweb.conf.fleet_setting().
FLEET: dict[str, Any] = {
    # Agent request bodies: limits on the bytes on the wire and after gunzip.
    "AGENT_MAX_BODY_BYTES": env.int("FLEET_AGENT_MAX_BODY_BYTES", default=10 * 1024 * 1024),
    "AGENT_MAX_DECOMPRESSED_BYTES": env.int("FLEET_AGENT_MAX_DECOMPRESSED_BYTES", default=64 * 1024 * 1024),
    # How a re-enrolling agent is matched to its existing host: "uuid" (hardware UUID, then
    # serial, then host_identifier) or "host_identifier".
    "ENROLL_IDENTITY": env.str("FLEET_ENROLL_IDENTITY", default="uuid"),
    # osquery rejects configs over 1 MiB (releases up to 5.23.1).
    "CONFIG_MAX_BYTES": env.int("FLEET_CONFIG_MAX_BYTES", default=1024 * 1024),
    # How long a node-key -> host mapping may stay cached; deletes invalidate it at once.
    "NODE_CACHE_SECONDS": env.int("FLEET_NODE_CACHE_SECONDS", default=3600),
    "CARVE_MAX_BYTES": env.int("FLEET_CARVE_MAX_BYTES", default=2 * 1024 * 1024 * 1024),
    "CARVE_BLOCK_MAX_BYTES": env.int("FLEET_CARVE_BLOCK_MAX_BYTES", default=8 * 1024 * 1024),
    # Written into generated osquery flags files.
    "AGENT_CONFIG_REFRESH": env.int("FLEET_AGENT_CONFIG_REFRESH", default=60),
    "AGENT_DISTRIBUTED_INTERVAL": env.int("FLEET_AGENT_DISTRIBUTED_INTERVAL", default=10),
    "AGENT_LOGGER_TLS_PERIOD": env.int("FLEET_AGENT_LOGGER_TLS_PERIOD", default=10),
    # Live queries: how long a campaign waits for hosts before it expires, and how long the
    # one-host "run and wait" call waits (Fleet's FLEET_LIVE_QUERY_REST_PERIOD).
    "LIVE_QUERY_TTL": env.int("FLEET_LIVE_QUERY_TTL", default=600),
    "LIVE_QUERY_SYNC_TIMEOUT": env.int("FLEET_LIVE_QUERY_SYNC_TIMEOUT", default=25),
    # Each waiting caller holds a server thread: the longest wait a caller may ask for, and how
    # long one event stream stays open before the client reconnects (EventSource and the CLI
    # resume from Last-Event-ID, so nothing is missed).
    "LIVE_QUERY_SYNC_MAX_TIMEOUT": env.int("FLEET_LIVE_QUERY_SYNC_MAX_TIMEOUT", default=120),
    "LIVE_QUERY_STREAM_MAX_SECONDS": env.int("FLEET_LIVE_QUERY_STREAM_MAX_SECONDS", default=60),
    # How often hosts are asked their vitals, labels and policies, plus up to MAX_JITTER_PERCENT
    # of the interval so hosts spread out.
    "DETAIL_UPDATE_INTERVAL": env.int("FLEET_DETAIL_UPDATE_INTERVAL", default=3600),
    "LABEL_UPDATE_INTERVAL": env.int("FLEET_LABEL_UPDATE_INTERVAL", default=3600),
    "POLICY_UPDATE_INTERVAL": env.int("FLEET_POLICY_UPDATE_INTERVAL", default=3600),
    "MAX_JITTER_PERCENT": env.int("FLEET_MAX_JITTER_PERCENT", default=10),
    # Carved archives are deleted this many days after the carve began.
    "CARVE_RETENTION_DAYS": env.int("FLEET_CARVE_RETENTION_DAYS", default=30),
    "TLS_HOSTNAME": env.str("FLEET_TLS_HOSTNAME", default="localhost:8443"),
    # REST API sessions (login tokens) last this long; API-only users' tokens do not expire.
    "SESSION_SECONDS": env.int("FLEET_SESSION_SECONDS", default=5 * 24 * 3600),
    # Brute-force protection: attempts per minute per client address (and per account for login).
    "LOGIN_RATE_LIMIT": env.int("FLEET_LOGIN_RATE_LIMIT", default=10),
    "ENROLL_RATE_LIMIT": env.int("FLEET_ENROLL_RATE_LIMIT", default=600),
    "ENROLL_FAILURE_RATE_LIMIT": env.int("FLEET_ENROLL_FAILURE_RATE_LIMIT", default=30),
    # Unknown bearer tokens per minute per client address before every token from it is refused.
    "TOKEN_FAILURE_RATE_LIMIT": env.int("FLEET_TOKEN_FAILURE_RATE_LIMIT", default=30),
    "TRUST_X_FORWARDED_FOR": env.bool("FLEET_TRUST_X_FORWARDED_FOR", default=False),
    # Directories file destinations may write into (checked when one is saved in the admin).
    "FILE_DESTINATION_DIRS": env.list(
        "FLEET_FILE_DESTINATION_DIRS", default=[str(BASE_DIR / "var" / "siem"), "/var/log/fleetweb"]
    ),
    "TLS_CERT_PATH": env.str("FLEET_TLS_CERT_PATH", default=str(BASE_DIR / "var" / "tls" / "server.crt")),
    # Log intake and forwarding (collector app).
    "LOG_MAX_LINES": env.int("FLEET_LOG_MAX_LINES", default=100_000),
    # Per-host intake limit; over it the agent is told to retry later (0 = no limit).
    "INTAKE_LINES_PER_MINUTE": env.int("FLEET_INTAKE_LINES_PER_MINUTE", default=0),
    # Characters agents may use as --pack_delimiter ("_" is osquery's default, "/" Fleet's).
    "PACK_DELIMITERS": env.str("FLEET_PACK_DELIMITERS", default="/_"),
    "REPORT_MAX_ROWS": env.int("FLEET_REPORT_MAX_ROWS", default=1000),
    "STATUS_LINES_PER_HOST": env.int("FLEET_STATUS_LINES_PER_HOST", default=500),
    # One delivery loop per destination at a time; a killed worker's lock expires after this.
    "DELIVERY_LOCK_SECONDS": env.int("FLEET_DELIVERY_LOCK_SECONDS", default=120),
    "DELIVERY_TIME_BUDGET_SECONDS": env.float("FLEET_DELIVERY_TIME_BUDGET_SECONDS", default=30.0),
    # A stored batch not parsed after this long is parsed again by the sweep.
    "FORWARD_STALE_SECONDS": env.int("FLEET_FORWARD_STALE_SECONDS", default=60),
    # Intake asks workers to forward new batches at most once per this many milliseconds.
    "FORWARD_COALESCE_MS": env.int("FLEET_FORWARD_COALESCE_MS", default=200),
    "RETENTION_DELIVERED_HOURS": env.int("FLEET_RETENTION_DELIVERED_HOURS", default=24),
    "RETENTION_BATCH_DAYS": env.int("FLEET_RETENTION_BATCH_DAYS", default=7),
    "RETENTION_DEAD_DAYS": env.int("FLEET_RETENTION_DEAD_DAYS", default=30),
    "RETENTION_REPORT_DAYS": env.int("FLEET_RETENTION_REPORT_DAYS", default=30),
    "RETENTION_CHUNK": env.int("FLEET_RETENTION_CHUNK", default=5000),
    # Bearer token for /collector/metrics (Prometheus); staff sessions work without it.
    "METRICS_TOKEN": env.str("FLEET_METRICS_TOKEN", default=""),
}
