"""Django settings for Streha.

Every setting a deployment may change is read from an environment variable prefixed ``STREHA_``
(plus the conventional ``DATABASE_URL``). Defaults are safe for development on one machine;
``STREHA_ENV=production`` switches to production behaviour and makes the secrets required, so a
production server can never start with a development key or an open host list.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from streha.conf import env, env_bool, env_int, env_list, require

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env("STREHA_VAR_DIR", str(BASE_DIR / "var")))

# Exactly one of these, or no start at all: "prod" or "Production" must never fall back to
# development behaviour (debug pages with decrypted locals, no forced second factor).
KNOWN_ENVIRONMENTS = ("development", "test", "production")
ENV = env("STREHA_ENV", "development")
if ENV not in KNOWN_ENVIRONMENTS:
    raise ImproperlyConfigured(
        "STREHA_ENV must be one of development, test, production (exactly, in lower case)."
    )
PRODUCTION = ENV == "production"

if PRODUCTION:
    SECRET_KEY = require("STREHA_SECRET_KEY")
    ALLOWED_HOSTS = env_list("STREHA_ALLOWED_HOSTS") or require("STREHA_ALLOWED_HOSTS")
else:
    SECRET_KEY = env(
        "STREHA_SECRET_KEY", "development-only-key-never-used-in-production-0123456789"
    )
    ALLOWED_HOSTS = env_list("STREHA_ALLOWED_HOSTS") or ["127.0.0.1", "localhost", "testserver"]

# Never in production: debug pages would show personal data from the request and the database.
DEBUG = False if PRODUCTION else env_bool("STREHA_DEBUG", True)

# Demo mode: known demo passwords exist and two-factor enrolment is not forced. Never in production.
DEMO_MODE = False if PRODUCTION else env_bool("STREHA_DEMO_MODE", True)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "csp",
    "streha.places",
    "streha.accounts",
    "streha.access",
    "streha.protection",
    "streha.audit",
    "streha.people",
    "streha.cases",
    "streha.tips",
    "streha.statistics",
    "streha.web",
    "streha.api",
    "streha.demo",
    "django_tasks",
    "django_tasks_db",
    "streha.jobs",
    "streha.imports",
    "streha.justice",
    "streha.linkage",
]

MIDDLEWARE = [
    "streha.web.middleware.RequestIdMiddleware",
    # Decryption only inside an audited read: one scope per request (streha/audit/read_context).
    "streha.audit.read_context.AuditedReadMiddleware",
    # A page that needs a consultation reason asks for it (streha/audit/reasons.py).
    "streha.audit.reasons.ConsultationReasonMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Renews the idle timeout once a minute rather than writing the session on every request;
    # after the locale, so a database that fails on the session read answers in the user's language.
    "streha.web.middleware.SessionRenewalMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "streha.accounts.middleware.ResolvedUserMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "streha.web.middleware.SecurityHeadersMiddleware",
    "streha.accounts.middleware.SessionLifetimeMiddleware",
    "streha.accounts.middleware.RequireTwoFactorMiddleware",
    "axes.middleware.AxesMiddleware",
    # Hands an operator's tip-line cookie to the browser after sign-in (streha/tips/unlock.py).
    "streha.tips.unlock.TipLineCookieMiddleware",
    "streha.api.middleware.ApiNotFoundMiddleware",
    "streha.access.middleware.RefusedReadsMiddleware",
]

ROOT_URLCONF = "streha.urls"
WSGI_APPLICATION = "streha.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "streha" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "streha.web.context_processors.shell",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{VAR_DIR / 'streha.sqlite3'}",
        conn_max_age=env_int("STREHA_DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while one writer commits; IMMEDIATE avoids "database is locked"
    # surprises when a read transaction later wants to write.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;"
            # A larger page cache and memory-mapped reads: with a kept connection, hot index
            # pages stay in the process instead of being read again on every request.
            f" PRAGMA cache_size=-{env_int('STREHA_SQLITE_CACHE_MB', 64) * 1024};"
            f" PRAGMA mmap_size={env_int('STREHA_SQLITE_MMAP_MB', 256) * 1024 * 1024};"
        ),
        "transaction_mode": "IMMEDIATE",
    }
    # Tests use a real file (not memory) so they can prove what reaches the disk.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, except that a transaction an earlier error aborted is never reported
    # as committed (streha/db/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "streha.db.postgresql"
    # Parameters bound by the server (psycopg's own cursor) rather than quoted into the SQL text
    # in Python, and a statement the connection has run ``prepare_threshold`` times prepared
    # once: the pages' union reads (a case page's records, a list's keys and rows) cost
    # PostgreSQL more to plan than to run (4 ms against 0.6 ms), on every request. A pooler in
    # front of PostgreSQL must then keep prepared statements per client (PgBouncer 1.21+:
    # max_prepared_statements); STREHA_DB_PREPARE_THRESHOLD=-1 turns it off.
    prepare_threshold = env_int("STREHA_DB_PREPARE_THRESHOLD", 5)
    if prepare_threshold >= 0:
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=prepare_threshold
        )
DATABASES["default"]["ATOMIC_REQUESTS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# The cache holds sign-in rate limits and the second-factor codes already used (so a code cannot
# be replayed): every worker must share it, so production refuses a per-process cache.
CACHE_BACKENDS = {
    "locmem": ("django.core.cache.backends.locmem.LocMemCache", "streha"),
    "database": ("django.core.cache.backends.db.DatabaseCache", "streha_cache"),
    "file": ("django.core.cache.backends.filebased.FileBasedCache", str(VAR_DIR / "cache")),
    "redis": ("django.core.cache.backends.redis.RedisCache", "redis://127.0.0.1:6379/1"),
}
SHARED_CACHES = ("database", "file", "redis")
STREHA_CACHE = env("STREHA_CACHE", "database" if PRODUCTION else "locmem").strip()
if STREHA_CACHE not in CACHE_BACKENDS:
    raise ImproperlyConfigured("STREHA_CACHE must be one of locmem, database, file, redis.")
if PRODUCTION and STREHA_CACHE not in SHARED_CACHES:
    raise ImproperlyConfigured(
        "STREHA_CACHE must name a cache shared by every worker in production "
        "(database, file or redis), not locmem."
    )
CACHES = {
    "default": {
        "BACKEND": CACHE_BACKENDS[STREHA_CACHE][0],
        "LOCATION": env("STREHA_CACHE_LOCATION", CACHE_BACKENDS[STREHA_CACHE][1]),
    }
}

# --- Passwords and sign-in -------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses a locked-out username before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Never signs anyone in: unlocks a hotline member's tip-line key with the password given.
    "streha.tips.unlock.TipLineUnlockBackend",
    # allauth's backend, refusing service accounts (they use API tokens, never a session).
    "streha.accounts.backends.StaffAuthenticationBackend",
]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "web:home"

ACCOUNT_ADAPTER = "streha.accounts.adapters.StaffAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGIN_BY_CODE_ENABLED = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Streha] "
# Lock-out is django-axes' job (recorded in the database, shared by every worker).
ACCOUNT_RATE_LIMITS = {"login_failed": False}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env("STREHA_MFA_ISSUER", "Streha")
MFA_RECOVERY_CODE_COUNT = 10
MFA_FORMS = {
    "authenticate": "streha.accounts.forms.LockoutAwareAuthenticateForm",
    "activate_totp": "streha.accounts.forms.SessionMarkingActivateTOTPForm",
}

# Lock-out (streha/accounts/lockout.py): a username is locked per address, so nobody can lock a
# colleague out from elsewhere; an address failing many usernames is locked; and while a
# username, or the whole system, sees more failures than this, only addresses where staff have
# signed in before may try (password spraying from many addresses).
AXES_FAILURE_LIMIT = env_int("STREHA_LOCKOUT_FAILURES", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("STREHA_LOCKOUT_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "streha.accounts.lockout.StaffLockoutHandler"
STREHA_LOCKOUT_ADDRESS_FAILURES = env_int("STREHA_LOCKOUT_ADDRESS_FAILURES", 20)
STREHA_LOCKOUT_USER_FAILURES = env_int("STREHA_LOCKOUT_USER_FAILURES", 20)
STREHA_LOCKOUT_GLOBAL_FAILURES = env_int("STREHA_LOCKOUT_GLOBAL_FAILURES", 200)
STREHA_KNOWN_ADDRESS_DAYS = env_int("STREHA_KNOWN_ADDRESS_DAYS", 60)
if env_bool("STREHA_BEHIND_PROXY", False):
    # The proxy's address would otherwise stand for every client (one lock for everyone).
    AXES_IPWARE_PROXY_COUNT = 1
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
AXES_USERNAME_CALLABLE = "streha.accounts.lockout.username_of_attempt"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "account/locked_out.html"
AXES_VERBOSE = False

# Idle timeout: activity renews the session (at most once every STREHA_SESSION_RENEW_SECONDS,
# streha.web.middleware.SessionRenewalMiddleware, not a write per request), so it expires after
# this long without activity.
SESSION_COOKIE_AGE = env_int("STREHA_SESSION_IDLE_MINUTES", 30) * 60
SESSION_SAVE_EVERY_REQUEST = False
STREHA_SESSION_RENEW_SECONDS = env_int("STREHA_SESSION_RENEW_SECONDS", 60)
# Absolute lifetime: however active, a session ends this long after its sign-in (a stolen
# session cookie does not live for ever).
STREHA_SESSION_MAX_HOURS = env_int("STREHA_SESSION_MAX_HOURS", 10)
# Exports and break-glass need a password and a second factor entered this recently.
STREHA_REAUTHENTICATION_MINUTES = env_int("STREHA_REAUTHENTICATION_MINUTES", 5)
# API tokens (service accounts only) expire; this is the longest life an administrator may give.
STREHA_API_TOKEN_MAX_DAYS = env_int("STREHA_API_TOKEN_MAX_DAYS", 365)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"

# --- Security headers ---------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # data: for the two-factor QR code, which allauth renders as an inline SVG data URI.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("STREHA_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("STREHA_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = env_list("STREHA_CSRF_TRUSTED_ORIGINS")
    if env_bool("STREHA_BEHIND_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Languages ----------------------------------------------------------------------------
LANGUAGE_CODE = env("STREHA_LANGUAGE_CODE", "sq")
LANGUAGES = [
    ("sq", _("Albanian")),
    ("sr-latn", _("Serbian (Latin)")),
    ("en", _("English")),
]
# Our catalogues first; the second holds Albanian for third-party pages (allauth ships none).
LOCALE_PATHS = [BASE_DIR / "streha" / "locale", BASE_DIR / "streha" / "locale_thirdparty"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env("STREHA_TIME_ZONE", "Europe/Belgrade")
# One date format per language on every page (streha/web/formats/).
FORMAT_MODULE_PATH = ["streha.web.formats"]
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True

# --- Static files -------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
MEDIA_ROOT = VAR_DIR / "media"

# --- E-mail -------------------------------------------------------------------------------
# Invitation and password-reset links are credentials: in production they must leave by a real
# mail server, never land in the logs (console), a file or memory.
NOT_REAL_EMAIL_BACKENDS = (
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
)
EMAIL_BACKEND = env(
    "STREHA_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
).strip()
if PRODUCTION and EMAIL_BACKEND in NOT_REAL_EMAIL_BACKENDS:
    raise ImproperlyConfigured(
        "STREHA_EMAIL_BACKEND must be a real mail backend in production (for example "
        "django.core.mail.backends.smtp.EmailBackend), not the console, a file or memory."
    )
EMAIL_HOST = env("STREHA_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("STREHA_EMAIL_PORT", 25)
EMAIL_HOST_USER = env("STREHA_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env("STREHA_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("STREHA_EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("STREHA_FROM_EMAIL", "Streha <no-reply@streha.invalid>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- API ----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "streha.api.authentication.AgencyTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "streha.api.schema.StrehaAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "streha.api.pagination.StrehaPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "streha.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("STREHA_API_ANON_RATE", "60/minute"),
        "user": env("STREHA_API_USER_RATE", "1200/minute"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Streha API",
    "DESCRIPTION": (
        "National information system against trafficking in human beings. "
        "Authenticate with a session (browser) or an agency API token: "
        "`Authorization: Token <token>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TipStatusEnum": "streha.tips.models.TipStatus",
        "KindEnum": "streha.accounts.models.AgencyKind",
        "ServiceKindEnum": "streha.cases.models.ServiceKind",
        "ServiceStatusEnum": "streha.cases.models.ServiceStatus",
        # Justice: choice sets whose field names other apps use too.
        "WitnessKindEnum": "streha.justice.models.WitnessKind",
        "RoleInProcessEnum": "streha.justice.models.RoleInProcess",
        "RoleEnum": "streha.accounts.models.Role",
    },
}

# --- Logging: no personal data; messages name objects by opaque id only ------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "streha.web.logging.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env("STREHA_LOG_LEVEL", "INFO")},
    "loggers": {
        # The default "Not Found: /path" lines can carry search terms from query strings.
        "django.request": {"level": "ERROR"},
        "axes": {"level": "WARNING"},
    },
}

# --- Domain settings ---------------------------------------------------------------------------
STREHA_COUNTRY = env("STREHA_COUNTRY", "XK")
# Published statistics hide counts below this (and whatever would reveal them); see statistics.
STREHA_STATS_MIN_CELL = int(env("STREHA_STATS_MIN_CELL", "5"))
STREHA_BASE_URL = env("STREHA_BASE_URL", "http://127.0.0.1:8000")
STREHA_ADMIN_PATH = env("STREHA_ADMIN_PATH", "django-admin").strip("/")
# The Django admin edits rows around the services (approvals, audit events): it is not served in
# production unless asked for, and then only behind the same sign-in with its second factor.
STREHA_ADMIN_ENABLED = env_bool("STREHA_ADMIN_ENABLED", not PRODUCTION)

# How long a break-glass access lasts before it must be opened again.
STREHA_BREAK_GLASS_HOURS = env_int("STREHA_BREAK_GLASS_HOURS", 4)
# Retention per record type, in days after the record's last change; then `streha retention
# apply` anonymises it.
STREHA_RETENTION_DAYS = {
    "people.person": env_int("STREHA_RETENTION_PERSON_DAYS", 10 * 365),
    "tips.tip": env_int("STREHA_RETENTION_TIP_DAYS", 2 * 365),
}
# Recovery and reflection period for presumed victims (CETS 197 Art. 13: at least 30 days).
STREHA_REFLECTION_PERIOD_DAYS = max(30, env_int("STREHA_REFLECTION_PERIOD_DAYS", 30))
# Largest document a user may upload (bytes); documents are encrypted in the database.
STREHA_MAX_DOCUMENT_BYTES = env_int("STREHA_MAX_DOCUMENT_BYTES", 10 * 1024 * 1024)
# Bits kept of each blind index: about (records / 2**bits) other values share each index value,
# filtered out after decryption (protection/search.py). Change it, then `streha keys reindex`.
STREHA_BLIND_INDEX_BITS = env_int("STREHA_BLIND_INDEX_BITS", 12)
# Uploads stay in memory, bounded, never in a plaintext temporary file (protection/uploads.py).
FILE_UPLOAD_HANDLERS = ["streha.protection.uploads.BoundedMemoryUploadHandler"]

# Tip line: anti-abuse without tracking (see streha/tips/abuse.py) and the numbers people call.
STREHA_TIP_POW_BITS = env_int("STREHA_TIP_POW_BITS", 14)
STREHA_TIP_MIN_SECONDS = env_int("STREHA_TIP_MIN_SECONDS", 3)
STREHA_TIP_NOSCRIPT_MIN_SECONDS = env_int("STREHA_TIP_NOSCRIPT_MIN_SECONDS", 20)
STREHA_TIP_RATE_PER_HOUR = env_int("STREHA_TIP_RATE_PER_HOUR", 10)
# Reports per 10 minutes, the whole line together, above which the proof of work grows.
STREHA_TIP_FLOOD_PER_10_MINUTES = env_int("STREHA_TIP_FLOOD_PER_10_MINUTES", 30)
STREHA_TIP_POW_MAX_BITS = env_int("STREHA_TIP_POW_MAX_BITS", 24)
# Reverse proxies in front of the server that append to X-Forwarded-For (0: none, use the
# connection's address). The tip line's rate limits key on the address the last of them saw.
STREHA_PROXY_HOPS = env_int("STREHA_PROXY_HOPS", 1 if env_bool("STREHA_BEHIND_PROXY", False) else 0)
# The tip line's cache (rate limits, used form tokens) must be shared by every server process:
# the database by default, or Redis (STREHA_TIP_CACHE_URL=redis://...).
CACHES["tips"] = (
    {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env("STREHA_TIP_CACHE_URL"),
    }
    if env("STREHA_TIP_CACHE_URL", "")
    else {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "streha_tip_line_cache",
    }
)
# The national anti-trafficking hotline; set the real number for the deployment.
STREHA_HOTLINE_NUMBER = env("STREHA_HOTLINE_NUMBER", "0800 00 000 (demo)")
STREHA_EMERGENCY_NUMBER = env("STREHA_EMERGENCY_NUMBER", "192")

# --- Background jobs (streha/jobs/): a queue in the database, run by `streha worker` ----------
# To move the queue to Redis, install django-tasks-rq and point the backend at it (README).
TASKS = {
    "default": {
        "BACKEND": env("STREHA_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}
# A running job renews its lease with every batch; after this long without news it is failed.
STREHA_JOB_LEASE_SECONDS = env_int("STREHA_JOB_LEASE_SECONDS", 120)
# A failed job keeps what it needs for a rerun (an uploaded file, encrypted) this long.
STREHA_JOB_KEEP_FAILED_HOURS = env_int("STREHA_JOB_KEEP_FAILED_HOURS", 72)
# Work-list exports longer than this are made by a background job; its file is kept this long.
STREHA_EXPORT_INLINE_ROWS = env_int("STREHA_EXPORT_INLINE_ROWS", 5000)
STREHA_EXPORT_KEEP_HOURS = env_int("STREHA_EXPORT_KEEP_HOURS", 24)


# --- Operations: health, metrics, logs, backups (streha/ops/) ----------------------------------
INSTALLED_APPS += ["django_prometheus", "streha.ops"]
# Outermost and innermost: django-prometheus times the whole stack; a database that is away
# answers 503 (streha/ops/unavailable.py), never 500.
MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    *MIDDLEWARE,
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    "streha.ops.unavailable.DatabaseUnavailableMiddleware",
]
# Migration metrics would query the database while the app loads (no start without a database).
PROMETHEUS_EXPORT_MIGRATIONS = False
# /metrics answers only `Authorization: Bearer <token>`; without a token it does not exist.
STREHA_METRICS_TOKEN = env("STREHA_METRICS_TOKEN", "")
# Probes come over plain HTTP from the proxy or orchestrator on the internal network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
# Pluggable readiness sources (streha/ops/health.py): a dotted path to a callable returning the
# time of the last heartbeat/checkpoint; a source that is not installed is skipped.
STREHA_READINESS_SOURCES = {
    "job_worker": env("STREHA_WORKER_HEARTBEAT_SOURCE", "streha.jobs.heartbeat.last_heartbeat"),
    "audit_checkpoint": env(
        "STREHA_AUDIT_CHECKPOINT_SOURCE", "streha.ops.sources.last_audit_checkpoint"
    ),
}
STREHA_WORKER_HEARTBEAT_MAX_SECONDS = env_int("STREHA_WORKER_HEARTBEAT_MAX_SECONDS", 120)
STREHA_AUDIT_CHECKPOINT_MAX_SECONDS = env_int("STREHA_AUDIT_CHECKPOINT_MAX_SECONDS", 26 * 3600)
# Structured logs: one JSON object per line with the request id (default in production).
LOGGING["formatters"]["json"] = {"()": "streha.ops.logs.JsonFormatter"}
if env("STREHA_LOG_FORMAT", "json" if PRODUCTION else "plain") == "json":
    LOGGING["handlers"]["console"]["formatter"] = "json"
# Backups (`streha backup`): encrypted to the age recipients in this file (public keys only).
STREHA_BACKUP_RECIPIENTS_FILE = env("STREHA_BACKUP_RECIPIENTS_FILE", "")
# Static files collected into the container image, outside the writable data volume.
STATIC_ROOT = Path(env("STREHA_STATIC_ROOT", str(STATIC_ROOT)))


# Audit checkpoints (streha/audit/checkpoints.py): signed, outside the database. A checkpoint
# is made every N events or every M minutes (if the chain moved) by `streha audit checkpoint`.
STREHA_AUDIT_CHECKPOINT_EVERY = max(1, env_int("STREHA_AUDIT_CHECKPOINT_EVERY", 1000))
STREHA_AUDIT_CHECKPOINT_MINUTES = max(1, env_int("STREHA_AUDIT_CHECKPOINT_MINUTES", 60))
STREHA_AUDIT_CHECKPOINT_DIR = env("STREHA_AUDIT_CHECKPOINT_DIR", str(VAR_DIR / "audit-checkpoints"))
# Default: audit-signing-key.pem beside the master key file.
STREHA_AUDIT_SIGNING_KEY_FILE = env("STREHA_AUDIT_SIGNING_KEY_FILE", "")
STREHA_SHRED_LEDGER_FILE = env("STREHA_SHRED_LEDGER_FILE", "")
STREHA_AUDIT_VERIFY_KEYS = env_list("STREHA_AUDIT_VERIFY_KEYS")
STREHA_AUDIT_WITNESS = env("STREHA_AUDIT_WITNESS", "streha.audit.checkpoints.DirectoryWitness")


# Rows per import batch (one transaction each; on SQLite other writers wait for a batch).
STREHA_IMPORT_BATCH = env_int("STREHA_IMPORT_BATCH", 200)
