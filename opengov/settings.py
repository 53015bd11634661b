"""Settings, read from the environment (see .env.example for every variable).

With nothing set, the project runs on its embedded default: a SQLite file and a
secret key kept under var/, Celery tasks run in-process, a local-memory cache.
"""

import datetime
import ipaddress
import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from opengov.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# A .env file beside manage.py (or at ENV_FILE) is read when present; real environment variables win.
environ.Env.read_env(env.str("ENV_FILE", default=str(BASE_DIR / ".env")))


def env_or(name: str, default: str) -> str:
    """The variable's value, or the default when it is unset or empty: a copy of .env.example leaves
    `DATABASE_URL=` and the like empty, which means "the default", not "nothing"."""
    return env.str(name, default="") or default


DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])


def _local_secret_key() -> str:
    """Generate the key of a local run once and keep it, so sessions survive restarts."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off. For a local run, set DEBUG=true "
            "and a key is generated under var/."
        )
    SECRET_KEY = _local_secret_key()

INSTALLED_APPS = [
    # The project itself: its operations commands (healthcheck).
    "opengov.apps.SiteConfig",
    # Django's admin, with the workspace's site (opengov/admin_site.py) as its default.
    "opengov.apps.WorkspaceAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "dsfr",
    "widget_tweaks",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "simple_history",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "accounts",
    "commitments",
    "indicators",
    "forums",
]

MIDDLEWARE = [
    # First of all: names the request (X-Request-ID, on every log line) and logs its final status and time.
    "opengov.logs.RequestLogMiddleware",
    # Whole answers for anonymous readers, with the version of the data they show (opengov/page_cache.py):
    # stored as they leave every middleware below, headers and all, so that a hit runs none of them.
    "opengov.page_cache.PageCacheMiddleware",
    # A HEAD answer carries the headers a GET would, without the body.
    "opengov.middleware.HeadResponseMiddleware",
    # The Content-Security-Policy, on every response including static files and errors.
    "opengov.headers.ContentSecurityPolicyMiddleware",
    # X-Frame-Options for the browsers that ignore the policy's frame-ancestors; this high, the probes get it too.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # HSTS, nosniff, Referrer-Policy, Cross-Origin-Opener-Policy, and the redirect to HTTPS (an answer over
    # HTTP is never stored in the page cache: its key has the scheme, and a redirect is not stored).
    "django.middleware.security.SecurityMiddleware",
    # /healthz and /readyz, before the host check (a probe asks by the container's address).
    "opengov.health.HealthMiddleware",
    # Static files with hashed names and long lifetimes, from gunicorn itself (no separate web server needed).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Sees the final body: adds the ETag (stored with the answer) and answers 304 to a matching request.
    "django.middleware.http.ConditionalGetMiddleware",
    # Marks what everyone sees alike as public, with its Last-Modified; the page cache stores only those.
    "opengov.middleware.PublicCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Drops the cookie of an expired session rather than saving a new empty one (SESSION_SAVE_EVERY_REQUEST).
    "accounts.security.StaleSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Marks request.user as verified by a second factor, for the admin site's check.
    "django_otp.middleware.OTPMiddleware",
    # Writes every refusal (403) to the security log.
    "accounts.security.RefusalLogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Records the logged-in user on every history entry made during a request.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes requires: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "opengov.urls"
WSGI_APPLICATION = "opengov.wsgi.application"
ASGI_APPLICATION = "opengov.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

if not env.str("DATABASE_URL", default=""):
    VAR_DIR.mkdir(exist_ok=True)
DATABASES = {
    "default": env.db_url_config(env_or("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")),
}
# A web process keeps its database connection across requests for this many seconds (0: one per request),
# which spares PostgreSQL a connection per page. Each request first checks that the kept connection still
# works, so a database restart costs the requests in flight, not the ones after it.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0 if DEBUG else 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file rather than memory, so that the Celery worker the tests start opens the same test database.
    DATABASES["default"].setdefault("TEST", {}).setdefault("NAME", str(VAR_DIR / "test_db.sqlite3"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"

# A second factor (TOTP) for every staff account, required unless this is a development run.
OTP_REQUIRED = env.bool("OTP_REQUIRED", default=not DEBUG)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="opengov")

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out account and address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Five failed sign-ins for one account from one address lock that pair out (others go on), for a
# cool-off that ends by itself; a successful sign-in clears the count (OWASP ASVS 2.2.1).
AXES_FAILURE_LIMIT = 5
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout"
AXES_CLIENT_IP_CALLABLE = "accounts.security.client_address"
# Reverse proxies in front of the site that append the client's address to X-Forwarded-For; with 0,
# the connecting address is the client's. Lockouts and the security log use the same address.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# A session ends after this long without a request, and when the browser closes (OWASP ASVS 3.3).
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
# The CSRF token is read from the form, never by a script: its cookie can be HttpOnly.
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
# Origins, besides the site's own, from which forms may be posted (https://host, comma-separated).
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- HTTPS (OWASP ASVS 9.1) ------------------------------------------------------------------------
# Plain HTTP is answered by a redirect to HTTPS, but for the probes, which ask over the internal network.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
# The proxies trusted with the client's address (TRUSTED_PROXY_COUNT) terminate TLS and say the scheme
# they were asked in X-Forwarded-Proto; without such a proxy, nobody may claim a request was secure.
if TRUSTED_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Browsers go straight to HTTPS for a year. The site runs on a host name of its own (opengov.example.gouv.fr),
# so includeSubDomains covers only names below it, and preload only makes the name eligible for the browsers'
# list if its owner submits it; each can be turned off for a site that shares its host name.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
# Defaults of Django, said here because the security test relies on them.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Every script, style, image and font comes from the site itself (the DSFR, the admin's and the API
# documentation's assets are served from packages); no inline script, no eval. Data URIs are images the
# DSFR's and Swagger UI's style sheets embed.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# Invitations to the workspace are e-mailed; the link in them sets a password once, within this many days.
PASSWORD_RESET_TIMEOUT = env.int("INVITATION_VALID_DAYS", default=7) * 24 * 60 * 60
# EMAIL_BACKEND, EMAIL_HOST and the rest, from one URL; the default prints messages to the console.
vars().update(env.email_url_config(env_or("EMAIL_URL", "consolemail://")))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="opengov <webmaster@localhost>")

# The reason of a change is public and can be a sentence or two: a text column, not 100 characters.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
# Reverting to an old version from the admin would write without the services (and their checks).
SIMPLE_HISTORY_REVERT_DISABLED = True
# Passwords of at least 12 characters (OWASP ASVS 2.1.1), not common, not like the account's name or address.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# French first; English is available through the language switch.
LANGUAGE_CODE = "fr"
# Each language is named in itself in the language switch, so these names are not translated.
LANGUAGES = [("fr", "Français"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
# Figures read 12 345,6 in French and 12,345.6 in English.
USE_THOUSAND_SEPARATOR = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_or("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# Outside development, collectstatic gives every file a name carrying its content's hash, and compressed
# copies: WhiteNoise then lets browsers keep them for a year, since a changed file gets a new name.
# In development (runserver, the tests) files are served as they are, without collectstatic.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# In development WhiteNoise finds files where they are, as runserver does, and needs no collectstatic;
# said here because the tests switch DEBUG off after the settings are read.
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_USE_FINDERS = DEBUG

# Who publishes this instance, shown in the legal notice and the accessibility statement.
SITE_PUBLISHER = env.str("SITE_PUBLISHER", default="")
SITE_CONTACT_EMAIL = env.str("SITE_CONTACT_EMAIL", default="")
# The public address of the site, for the links in e-mails sent by tasks, which have no request to read it from.
SITE_URL = env.str("SITE_URL", default="http://localhost:8000")

# How long browsers and shared caches may keep a public page before asking again (seconds).
PUBLIC_CACHE_SECONDS = env.int("PUBLIC_CACHE_SECONDS", default=60)
# Rendered pages and API answers for anonymous readers, kept in the cache (Redis when configured) under
# the version of the data, so that a change shows at once (opengov/page_cache.py); answers larger than
# PAGE_CACHE_MAX_BYTES are rendered each time.
PAGE_CACHE_ENABLED = env.bool("PAGE_CACHE_ENABLED", default=True)
PAGE_CACHE_MAX_BYTES = env.int("PAGE_CACHE_MAX_BYTES", default=1024 * 1024)
# What each web process keeps of the answers it served lately, so that serving one again reads only the data
# version from Redis (opengov.page_cache.KeptAnswers).
PAGE_CACHE_KEPT_BYTES = env.int("PAGE_CACHE_KEPT_BYTES", default=32 * 1024 * 1024)

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # Pages and the API keep answering when Redis stops: the cache is then a miss, not an error.
            "BACKEND": "opengov.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            # A stopped Redis refuses at once; one that hangs must not hold a request for long either.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Without Redis there is no broker: tasks run in-process, at once, in the caller.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
# A task's message is acknowledged when it has run, not when it starts: a worker that dies mid-task
# leaves it to be run again (at once when a pool process dies, after the visibility timeout when the
# whole worker does). Tasks are written to be run twice without harm.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A worker keeps its database connection across this many tasks rather than opening one per task
# (Celery's default), which cost about 4 ms of a 30 ms refresh in bench/refresh.sh.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=100)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Seconds before Redis hands an unacknowledged message to another worker: longer than any task.
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=600),
    # How often a worker looks for such messages; every look is one cheap Redis query.
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
# Queuing while the broker is away fails within seconds with an error the admin shows, rather than
# holding the request; the scheduled run queues the indicator again once Redis is back.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Pool processes of a worker; unset, one per CPU.
CELERY_WORKER_CONCURRENCY = env.int("CELERY_WORKER_CONCURRENCY", default=None)
# Beat keeps its schedule's state in this file, and touches a heartbeat beside it on every tick, at least
# once a minute, which `manage.py healthcheck beat` reads (opengov/beat.py).
CELERY_BEAT_SCHEDULE_FILENAME = env_or("CELERY_BEAT_SCHEDULE_FILENAME", str(VAR_DIR / "celerybeat-schedule"))
CELERY_BEAT_SCHEDULER = "opengov.beat:HeartbeatScheduler"
CELERY_BEAT_MAX_LOOP_INTERVAL = 60
CELERY_BEAT_SCHEDULE = {
    "queue-due-indicator-refreshes": {
        "task": "indicators.tasks.queue_due_refreshes",
        "schedule": env.int("INDICATOR_SCHEDULE_SECONDS", default=300),
    },
    "prune-refresh-log": {"task": "indicators.tasks.prune_refreshes", "schedule": 24 * 3600},
    "queue-missed-contribution-notices": {"task": "forums.tasks.queue_missed_notices", "schedule": 600},
    "purge-expired-contributor-emails": {"task": "forums.tasks.purge_expired_emails", "schedule": 24 * 3600},
    # Rebuilds the bulk archive when the data changed since the last one; downloads also ask for it.
    "build-bulk-export": {"task": "opengov.tasks.build_export", "schedule": 3600},
}

# The log of the indicators' readings keeps this many days, and each indicator's 10 latest readings whatever their
# age (indicators.refresh.prune_refresh_log, a daily beat task); the values read are kept for good.
REFRESH_LOG_RETENTION_DAYS = env.int("REFRESH_LOG_RETENTION_DAYS", default=90)
if REFRESH_LOG_RETENTION_DAYS < 1:
    raise ImproperlyConfigured(f"REFRESH_LOG_RETENTION_DAYS must be 1 or more, not {REFRESH_LOG_RETENTION_DAYS}.")

# Citizens' contributions (forums/). An author's e-mail address is forgotten once they have been told the
# outcome (rejection or answer), and at the latest after this many days.
CONTRIBUTION_EMAIL_RETENTION_DAYS = env.int("CONTRIBUTION_EMAIL_RETENTION_DAYS", default=365)
# At most this many contribution forms sent from one address within the window (seconds); then 429.
CONTRIBUTION_RATE_COUNT = env.int("CONTRIBUTION_RATE_COUNT", default=5)
CONTRIBUTION_RATE_WINDOW = env.int("CONTRIBUTION_RATE_WINDOW", default=600)
# Where the bulk archive of the whole dataset is built (opengov/exports.py): shared by the web processes,
# which serve it, and the workers, which build it.
EXPORTS_DIR = env_or("EXPORTS_DIR", str(VAR_DIR / "exports"))

# Reading indicators from their sources (indicators/fetch.py). Addresses that are not public are refused;
# these networks (CIDR, comma-separated) are exempt, for an intranet's sources or the tests' local server.
INDICATOR_SOURCES_ALLOWED_NETWORKS = env.list("INDICATOR_SOURCES_ALLOWED_NETWORKS", default=[])
for _network in INDICATOR_SOURCES_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network.strip(), strict=False)
    except ValueError as _error:
        raise ImproperlyConfigured(
            f"INDICATOR_SOURCES_ALLOWED_NETWORKS: “{_network}” is not a network in CIDR form "
            f"(for example 10.20.0.0/16): {_error}"
        ) from _error
# Certificate authorities (a PEM file) trusted for https sources instead of the system's: an intranet's own.
INDICATOR_SOURCES_CA_FILE = env.str("INDICATOR_SOURCES_CA_FILE", default="")
INDICATOR_SOURCE_CONNECT_TIMEOUT = env.float("INDICATOR_SOURCE_CONNECT_TIMEOUT", default=5.0)
# The whole response must arrive within this many seconds, however slowly it trickles.
INDICATOR_SOURCE_READ_TIMEOUT = env.float("INDICATOR_SOURCE_READ_TIMEOUT", default=15.0)
# Largest body read, in bytes, before and after decompression.
INDICATOR_SOURCE_MAX_BYTES = env.int("INDICATOR_SOURCE_MAX_BYTES", default=5 * 1024 * 1024)
# First wait before a failed reading is tried again, in seconds; each retry waits twice as long.
INDICATOR_RETRY_BASE_SECONDS = env.float("INDICATOR_RETRY_BASE_SECONDS", default=30.0)

REST_FRAMEWORK = {
    # Only tokens: an administration's systems write with one, and no browser session can be
    # used against the API behind a visitor's back.
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"],
    # Deny by default: public read endpoints opt in explicitly.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer", "opengov.api_output.CSVRenderer"],
    "DEFAULT_PAGINATION_CLASS": "opengov.api_output.Pagination",
    "DEFAULT_SCHEMA_CLASS": "opengov.api.AutoSchema",
    "EXCEPTION_HANDLER": "opengov.api.exception_handler",
    # Shared across workers through the cache, which is Redis when REDIS_URL is set.
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": env.str("API_ANON_RATE", default="120/minute")},
    "COERCE_DECIMAL_TO_STRING": False,
    "DATETIME_FORMAT": "iso-8601",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
API_PAGE_SIZE = env.int("API_PAGE_SIZE", default=50)
API_MAX_PAGE_SIZE = env.int("API_MAX_PAGE_SIZE", default=500)

SPECTACULAR_SETTINGS = {
    "TITLE": "opengov API",
    "DESCRIPTION": (
        "Open government action plans, their commitments, milestones, indicators and forums. "
        "Reading is open to everyone; writing needs an administration's token and is limited to "
        "the commitments it carries. Data under Licence Ouverte 2.0."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The interactive documentation's assets come from a package and are served by the site.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "opengov.api.document_errors"],
}

# One JSON object per line with the request's id (opengov/logs.py), for a log collector; plain lines when
# a developer reads them.
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not “{LOG_FORMAT}”.")
LOGGING = logging_config(log_format=LOG_FORMAT, level=env.str("LOG_LEVEL", default="INFO"))
