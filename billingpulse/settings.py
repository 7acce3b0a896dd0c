"""BillingPulse settings, read from environment variables only.

Every variable is listed with its meaning in ``.env.example``. With no variables at all
the app runs in development on a SQLite file, an embedded Celery broker and console
email, so ``make run`` works on a fresh machine.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF

from billingpulse.lib.devserver import is_loopback, runserver_host
from billingpulse.lib.env import (
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_secret,
    env_str,
)
from billingpulse.lib.production import production_problems

BASE_DIR = Path(__file__).resolve().parent.parent
# Runtime files (SQLite database, embedded broker, uploads) live here; never committed.
VAR_DIR = Path(env_str("VAR_DIR") or BASE_DIR / "var")
VAR_DIR.mkdir(parents=True, exist_ok=True)

APP_ENV = env_choice("APP_ENV", ("development", "staging", "production"), "development")
IS_DEPLOYED = APP_ENV in ("staging", "production")

DEVELOPMENT_SECRET_KEY = "development-only-insecure-key-do-not-use-in-production"
SECRET_KEY = env_secret("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
# Debug pages show code, settings and data to whoever gets them. By default they are on
# only in development and only for runserver listening on this machine alone (bin/run-dev
# binds 127.0.0.1); runserver on an address others can reach refuses DEBUG=true. Other
# servers and the worker run without them unless DEBUG=true is set.
_RUNSERVER_HOST = runserver_host(sys.argv)
_LOCAL_RUNSERVER = _RUNSERVER_HOST is not None and is_loopback(_RUNSERVER_HOST)
DEBUG = env_bool("DEBUG", default=APP_ENV == "development" and _LOCAL_RUNSERVER)
if DEBUG and _RUNSERVER_HOST is not None and not _LOCAL_RUNSERVER:
    sys.exit(
        f"BillingPulse refuses to show debug pages on {_RUNSERVER_HOST}, which other machines can reach: "
        "listen on 127.0.0.1 (as `make run` does) or set DEBUG=false."
    )
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if not IS_DEPLOYED else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Absolute address of the app, used for links in emails.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

if APP_ENV == "production":
    _problems = production_problems(
        debug=DEBUG,
        secret_key=SECRET_KEY,
        default_secret_key=DEVELOPMENT_SECRET_KEY,
        allowed_hosts=ALLOWED_HOSTS,
    )
    if _problems:
        # SystemExit prints the message without a traceback and stops every entry point
        # (manage.py, gunicorn, celery) before it can serve anything.
        lines = "\n".join(f"  - {problem}" for problem in _problems)
        sys.exit(f"BillingPulse refuses to start with APP_ENV=production:\n{lines}")

INSTALLED_APPS = [
    "billingpulse",
    "billingpulse.admin_site.BillingPulseAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "django_celery_beat",
    "claims",
    "billing",
    "clinical",
    "documents",
    "telephony",
    "ai",
    # The audit trail (audit/): django-auditlog records changes, audit keeps the chained log.
    "auditlog",
    "audit",
    "reports",
    # Exports of the worklist, calls and reports as CSV and XLSX (exports/).
    "exports",
    # The needs-action inbox (inbox/): claims and ERA payments handed to a person.
    "inbox",
    # Sign-in security (billingpulse/security/): lockout, TOTP devices and backup codes.
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
]

MIDDLEWARE = [
    "billingpulse.middleware.RequestIDMiddleware",
    "billingpulse.middleware.QueryStringMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise, so static files keep their own caching and carry no page headers.
    "csp.middleware.CSPMiddleware",
    "billingpulse.security.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "billingpulse.middleware.PracticeMiddleware",
    "audit.middleware.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "billingpulse.security.middleware.IdleTimeoutMiddleware",
    "billingpulse.security.middleware.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes requires: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "billingpulse.urls"
WSGI_APPLICATION = "billingpulse.wsgi.application"
ASGI_APPLICATION = "billingpulse.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "billingpulse.context_processors.shell",
            ],
            "builtins": ["template_partials.templatetags.partials"],
            "loaders": [
                (
                    "template_partials.loader.Loader",
                    [
                        (
                            "django.template.loaders.cached.Loader",
                            [
                                "django.template.loaders.filesystem.Loader",
                                "django.template.loaders.app_directories.Loader",
                            ],
                        )
                    ],
                )
            ],
        },
    }
]

# Database: a SQLite file unless DATABASE_URL names another (postgres://user@host/db).
DATABASES = {"default": environ.Env.db_url_config(env_secret("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker write this file at once (make run). WAL lets reads go
    # on during a write. IMMEDIATE takes the write lock when a transaction begins, so a
    # second writer waits for it (up to the busy timeout, in seconds) instead of failing
    # with "database is locked" when its read-then-write transaction cannot be upgraded.
    # synchronous=NORMAL is safe with WAL: a power cut may lose the last commits but never
    # corrupts the file, and commits skip an fsync each.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("SQLITE_BUSY_TIMEOUT_SECONDS", 20),
        **DATABASES["default"].get("OPTIONS", {}),
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: broker, cache and cross-process limits. Without it, the broker is kombu's
# filesystem transport and the cache is a database table, so a worker, beat and the web
# server still share state with no services running.
REDIS_URL = env_secret("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "billingpulse_cache",
            # Rate-limit slots live here too: the default of 300 entries would cull them early.
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

AUTH_USER_MODEL = "billingpulse.User"
# axes first: it refuses a locked-out account before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "billingpulse.auth.EmailBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
# Outside deployments, serve straight from the source folders (no collectstatic needed).
WHITENOISE_USE_FINDERS = not IS_DEPLOYED
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or VAR_DIR / "media")
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if IS_DEPLOYED
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Email: SMTP when EMAIL_HOST is set, otherwise printed to the console.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "BillingPulse <noreply@billingpulse.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Security headers; the cookie and HTTPS settings are on wherever the app is deployed.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Our own scripts and styles only: no inline script or style, no CDN. frame-ancestors follows
# X-Frame-Options per answer (billingpulse/security/middleware.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF],
        "style-src": [CSP_SELF],
        "img-src": [CSP_SELF, "data:"],
        "font-src": [CSP_SELF],
        "connect-src": [CSP_SELF],
        "object-src": [CSP_NONE],
        "frame-ancestors": [CSP_NONE],
        "base-uri": [CSP_SELF],
        "form-action": [CSP_SELF],
    }
}
# Browser features no page of ours uses, turned off for every page (and anything it frames).
PERMISSIONS_POLICY = [
    "accelerometer",
    "autoplay",
    "camera",
    "display-capture",
    "geolocation",
    "gyroscope",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "usb",
    "xr-spatial-tracking",
]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 12)
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Pages send the token from the page itself (hx-headers, form fields); no script reads the cookie.
CSRF_COOKIE_HTTPONLY = True
# Signed out after this many minutes without activity; the page warns this many seconds before.
SESSION_IDLE_TIMEOUT_MINUTES = env_int("SESSION_IDLE_TIMEOUT_MINUTES", 30)
SESSION_IDLE_WARNING_SECONDS = env_int("SESSION_IDLE_WARNING_SECONDS", 120)
# Lockout (django-axes): this many failed sign-ins in a row for one account from one address
# lock that account at that address for LOGIN_LOCKOUT_MINUTES after the last one (see
# billingpulse/security/lockout.py); a practice admin can unlock it sooner. A success resets it.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "billingpulse.auth.sign_in_username"
AXES_CLIENT_IP_CALLABLE = "billingpulse.security.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "billingpulse.security.views.locked_out"
# Successful sign-ins are not kept by axes (the audit trail records them).
AXES_DISABLE_ACCESS_LOG = True
# Two-factor: the name authenticator apps show next to the code. Operators may delete a
# person's device in the Django admin (a lost phone) but never see its key or QR code.
OTP_TOTP_ISSUER = "BillingPulse"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
if IS_DEPLOYED:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # Behind a TLS-terminating proxy (the usual deployment), trust its scheme header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # The load balancer's health probe speaks plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^health"]

REST_FRAMEWORK = {
    # Token first, so an anonymous call gets 401 with a WWW-Authenticate header.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["billingpulse.tenancy.IsPracticeMember"],
    "DEFAULT_FILTER_BACKENDS": ["billingpulse.tenancy.PracticeScopedFilter"],
    "DEFAULT_PAGINATION_CLASS": "billingpulse.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "billingpulse.lib.parsers.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "billingpulse.lib.rest.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "BillingPulse API",
    "DESCRIPTION": "Claims, payer calls and billing for medical practices.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "ENUM_NAME_OVERRIDES": {
        "ClaimStatusEnum": "claims.status.ClaimStatus",
        "ClaimImportStatusEnum": "claims.models.ClaimImport.Status",
        "CallStatusEnum": "telephony.status.CallStatus",
        "ScheduledCallStatusEnum": "telephony.models.ScheduledCall.Status",
        "LedgerSourceEnum": "billing.models.JournalTransaction.Source",
        "AdjustmentReasonEnum": "billing.models.AdjustmentReason",
        "WriteOffReasonEnum": "billing.serializers.WRITE_OFF_CHOICES",
        "ResponsibilityEnum": "billing.models.Responsibility",
        "RemittanceStatusEnum": "billing.models.Remittance.Status",
        "DocumentStatusEnum": "documents.status.DocumentStatus",
    },
}

# Celery: JSON only (no pickle), ids only in messages, no results kept.
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
if not REDIS_URL:
    CELERY_BROKER_DIR = VAR_DIR / "celery"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
    # Producers and the worker both need the folders before the first message.
    for _folder in ("queue", "control"):
        (CELERY_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Task modules besides each app's tasks.py.
CELERY_IMPORTS = ["telephony.sandbox"]
# The beat schedule lives here; DatabaseScheduler copies it into the database at start.
CELERY_BEAT_SCHEDULE = {
    "Record worker heartbeat": {
        "task": "billingpulse.tasks.record_heartbeat",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "Dispatch due follow-up calls": {
        "task": "telephony.tasks.dispatch_due_followups",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "Place deferred calls whose timer was lost": {
        "task": "telephony.tasks.place_deferred_calls",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "Reconcile calls whose webhooks were lost": {
        "task": "telephony.tasks.reconcile_calls",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    "Lock signed clinical notes": {
        "task": "clinical.tasks.lock_signed_notes",
        "schedule": 3600.0,
        "options": {"expires": 3500},
    },
    "Sweep document storage": {
        "task": "documents.tasks.sweep_orphans",
        "schedule": 24 * 3600.0,
        "options": {"expires": 23 * 3600},
    },
    "Refresh the needs-action inbox": {
        "task": "inbox.tasks.refresh_inbox",
        "schedule": 24 * 3600.0,
        "options": {"expires": 23 * 3600},
    },
    "Chain audit entries left unchained": {
        "task": "audit.tasks.seal_audit_chains",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "Delete expired export files": {
        "task": "exports.tasks.delete_expired_exports",
        "schedule": 3600.0,
        "options": {"expires": 3500},
    },
}

# Audit trail: django-auditlog's entries carry the request id; fixtures loaded raw are not changes.
AUDITLOG_CID_GETTER = "audit.context.request_id"
AUDITLOG_DISABLE_ON_RAW_SAVE = True

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "billingpulse.lib.request_id.RequestIDLogFilter"}},
    "formatters": {
        "standard": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": "standard"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # WeasyPrint narrates every PDF it renders at INFO.
        "weasyprint.progress": {"level": "WARNING"},
    },
}

SENTRY_DSN = env_secret("SENTRY_DSN")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=APP_ENV,
        # Patient data must never leave the practice: no request bodies, no user details.
        send_default_pii=False,
        max_request_body_size="never",
        traces_sample_rate=float(env_str("SENTRY_TRACES_SAMPLE_RATE", "0") or 0),
    )

# Claim import: the largest file accepted, and up to how many rows run during the
# request (larger files run in the background with a progress bar).
# A signed clinical note locks itself this many hours after it was signed (its provider may lock it sooner).
NOTE_AUTO_LOCK_AFTER = timedelta(hours=env_int("NOTE_AUTO_LOCK_HOURS", 72))
CLAIM_IMPORT_MAX_BYTES = env_int("CLAIM_IMPORT_MAX_BYTES", 20 * 1024 * 1024)
CLAIM_IMPORT_INLINE_ROWS = env_int("CLAIM_IMPORT_INLINE_ROWS", 500)
# Exports (exports/): up to EXPORT_BACKGROUND_ROWS rows stream straight to the browser; larger
# ones are written by a worker to the "exports" storage (a private folder under VAR_DIR, never
# served by the web server) and kept EXPORT_KEEP for download, then deleted by beat.
EXPORT_BACKGROUND_ROWS = 5000
EXPORT_KEEP = timedelta(hours=24)
STORAGES["exports"] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": VAR_DIR / "exports"},
}

# Payer calls. "sandbox" simulates calls end to end with no keys; "vapi" places real ones.
TELEPHONY_PROVIDER = env_choice("TELEPHONY_PROVIDER", ("sandbox", "vapi"), "sandbox")
TELEPHONY_ENABLED = True
VAPI_API_KEY = env_secret("VAPI_API_KEY")
VAPI_ASSISTANT_ID = env_str("VAPI_ASSISTANT_ID")
VAPI_PHONE_NUMBER_ID = env_str("VAPI_PHONE_NUMBER_ID")
VAPI_BASE_URL = env_str("VAPI_BASE_URL", "https://api.vapi.ai")
VAPI_TIMEOUT_SECONDS = env_int("VAPI_TIMEOUT_SECONDS", 15)
# Webhook authentication: a shared secret header and/or HMAC signatures. Outside
# development, with neither set, the webhook refuses every request. In development the
# sandbox signs with a key derived from SECRET_KEY, so calls work with no set-up.
VAPI_WEBHOOK_SECRET = env_secret("VAPI_WEBHOOK_SECRET")
VAPI_WEBHOOK_HMAC_SECRET = env_secret("VAPI_WEBHOOK_HMAC_SECRET") or (
    f"dev-hmac-{SECRET_KEY}" if APP_ENV == "development" and TELEPHONY_PROVIDER == "sandbox" else ""
)
# The Vapi credential (type hmac, same secret) that makes Vapi sign its deliveries.
VAPI_WEBHOOK_CREDENTIAL_ID = env_str("VAPI_WEBHOOK_CREDENTIAL_ID")
VAPI_WEBHOOK_MAX_BYTES = env_int("VAPI_WEBHOOK_MAX_BYTES", 2 * 1024 * 1024)
VAPI_WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS = env_int("VAPI_WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS", 300)
# Pacing: calls per payer per window (a payer may override), and per practice.
CALL_RATE_LIMIT = env_int("CALL_RATE_LIMIT", 2)
CALL_RATE_WINDOW_SECONDS = env_int("CALL_RATE_WINDOW_SECONDS", 300)
PRACTICE_MAX_CONCURRENT_CALLS = env_int("PRACTICE_MAX_CONCURRENT_CALLS", 5)
PRACTICE_DAILY_CALL_LIMIT = env_int("PRACTICE_DAILY_CALL_LIMIT", 200)
CALL_MAX_DURATION_SECONDS = env_int("CALL_MAX_DURATION_SECONDS", 45 * 60)
CALL_MAX_ATTEMPTS = env_int("CALL_MAX_ATTEMPTS", 3)
# Seconds between the sandbox's simulated call events.
SANDBOX_EVENT_DELAY_SECONDS = env_int("SANDBOX_EVENT_DELAY_SECONDS", 3)
OPENAI_API_KEY = env_secret("OPENAI_API_KEY")
# "openai" when an API key is set, else "rules" (offline: no data leaves the machine).
OUTCOME_EXTRACTOR = env_choice("OUTCOME_EXTRACTOR", ("rules", "openai"), "openai" if OPENAI_API_KEY else "rules")
OPENAI_BASE_URL = env_str("OPENAI_BASE_URL")
OPENAI_MODEL = env_str("OPENAI_MODEL", "gpt-4o-mini")
OPENAI_TIMEOUT = env_int("OPENAI_TIMEOUT", 30)
# Retries (with backoff) on rate limits, server errors and timeouts before falling back to rules.
OPENAI_MAX_RETRIES = env_int("OPENAI_MAX_RETRIES", 3)
OPENAI_EMBEDDING_MODEL = env_str("OPENAI_EMBEDDING_MODEL", "text-embedding-3-small")
EMBEDDINGS = env_choice("EMBEDDINGS", ("local", "openai"), "local")
CHROMA_URL = env_str("CHROMA_URL")
CHROMA_PATH = Path(env_str("CHROMA_PATH") or VAR_DIR / "chroma")

# Documents: files attached to patients and claims, encrypted by the app (documents/crypto.py)
# before they reach the backend, so S3, Azure or the local folder only ever hold ciphertext.
# Downloads are always served by the app, never by a backend URL (see documents/storage.py).
STORAGE_BACKEND = env_choice("STORAGE_BACKEND", ("local", "s3", "azure"), "local")
# Newest first; new files use the first, the others stay readable until re-encrypted. Empty in
# development means a key derived from SECRET_KEY; elsewhere an empty list stops document access.
DOCUMENT_ENCRYPTION_KEYS = env_list("DOCUMENT_ENCRYPTION_KEYS")
DOCUMENT_INDEX_KEY = env_secret("DOCUMENT_INDEX_KEY")
DOCUMENT_MAX_UPLOAD_MB = env_int("DOCUMENT_MAX_UPLOAD_MB", 100)
# Larger files are shared by link instead (most mail servers refuse messages over 10-25 MB).
DOCUMENT_EMAIL_MAX_MB = env_int("DOCUMENT_EMAIL_MAX_MB", 10)
# Outside any web root, and without base_url: no URL can reach these files directly.
DOCUMENTS_ROOT = Path(env_str("DOCUMENTS_ROOT") or VAR_DIR / "documents")
if STORAGE_BACKEND == "s3":
    from boto3.s3.transfer import TransferConfig

    # Uploads are streamed (encrypted on the fly), and boto3 holds every part of such a stream in
    # memory while it waits to be sent (up to 10 by default). One 8 MiB part at a time keeps an
    # upload near 10 MB whatever the file's size (threads: 25 MB with 2, 47 MB with 10).
    _documents_transfer = TransferConfig(
        multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024, use_threads=False
    )
    _sse = env_str("DOCUMENTS_S3_SERVER_SIDE_ENCRYPTION", "AES256")
    STORAGES["documents"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("DOCUMENTS_S3_BUCKET"),
            "region_name": env_str("DOCUMENTS_S3_REGION") or None,
            "endpoint_url": env_str("DOCUMENTS_S3_ENDPOINT_URL") or None,
            "access_key": env_secret("DOCUMENTS_S3_ACCESS_KEY_ID") or None,
            "secret_key": env_secret("DOCUMENTS_S3_SECRET_ACCESS_KEY") or None,
            "object_parameters": {"ServerSideEncryption": _sse} if _sse else {},
            "file_overwrite": False,
            "default_acl": None,
            "transfer_config": _documents_transfer,
        },
    }
elif STORAGE_BACKEND == "azure":
    STORAGES["documents"] = {
        "BACKEND": "storages.backends.azure_storage.AzureStorage",
        "OPTIONS": {
            "azure_container": env_str("DOCUMENTS_AZURE_CONTAINER", "documents"),
            "connection_string": env_secret("DOCUMENTS_AZURE_CONNECTION_STRING") or None,
            "overwrite_files": False,
            # One block upload at a time: each block (4 MiB) is held in memory while it is sent.
            "upload_max_conn": 1,
        },
    }
else:
    STORAGES["documents"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": DOCUMENTS_ROOT},
    }
# The Azure SDK logs every request and response at INFO.
LOGGING["loggers"]["azure"] = {"level": "WARNING"}
# django-axes narrates every sign-in at INFO; failures and lockouts are WARNING.
LOGGING["loggers"]["axes"] = {"level": "WARNING"}
# Free-text patient data in the database (billingpulse/encryption.py lists the fields): stored as
# Fernet tokens under the first of ENCRYPTION_KEYS (newest first; the others stay readable until
# `manage.py rotate_encryption_keys` has re-encrypted everything) when ENCRYPT_SENSITIVE_FIELDS is on.
ENCRYPT_SENSITIVE_FIELDS = env_bool("ENCRYPT_SENSITIVE_FIELDS", default=False)
ENCRYPTION_KEYS = [key.strip() for key in env_secret("ENCRYPTION_KEYS").split(",") if key.strip()]
