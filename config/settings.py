"""All settings, read from the environment. One file, no per-environment copies.

Environment variables (all optional for a local demo):
  DATABASE_URL        default sqlite:///<repo>/var/jiancai.sqlite3
  SECRET_KEY          required when DEBUG is off
  DEBUG               "1" to enable debug pages
  ALLOWED_HOSTS       comma separated
  REDIS_URL           enables Celery with Redis; without it background work runs in-process
  FIELD_ENCRYPTION_KEY  Fernet key protecting ID numbers; derived from SECRET_KEY when unset
  AUDIT_HMAC_KEY      key of the audit hash chain; derived from SECRET_KEY when unset
  PASSWORD_MAX_AGE_DAYS   default 90
  SESSION_IDLE_SECONDS    default 1800 (30 minutes)
  SESSION_ABSOLUTE_SECONDS default 28800 (8 hours)
  IMPORT_MAX_BYTES    largest accepted bulk-import file, default 209715200 (200 MB)
  IMPORT_DIR          where uploaded import files and their error files are kept, default <repo>/var/imports
  MONITORING_AUTO     "0" stops the cross-checks from running on their own as filings arrive (default "1")
  REPORT_CODE_KEY     key of the test reports' verification codes (portal); derived from SECRET_KEY when unset
  PORTAL_CACHE_SECONDS  how long a public portal page is served from the cache, default 300
  OPENAPI_RATE        requests per e-commerce platform token, "<n>/<s|min|hour|day>", default 1200/min
  OPENAPI_BATCH_RATE  batch credit queries per token (on top of OPENAPI_RATE), default 120/min
  AUDIT_CHAIN_INLINE  "1" chains each API request's token-use audit row in the request; default "1" on SQLite,
                      "0" elsewhere (queued, chained by a thread within a second: jiancai.audit.chaining)
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


DEBUG = env("DEBUG", "0") == "1"
# The fallback key is only fit for the local demo; `manage.py check --deploy` flags it in production.
SECRET_KEY = env("SECRET_KEY", "django-insecure-jiancai-local-demo-key")
ALLOWED_HOSTS = [h for h in env("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "jiancai.audit",
    "jiancai.accounts",
    "jiancai.registry",
    "jiancai.materials",
    "jiancai.filings",
    "jiancai.monitoring",
    "jiancai.credit",
    "jiancai.blacklist",
    "jiancai.portal",
    "jiancai.openapi",
    "jiancai.indicators",
    "jiancai.analytics",
    "jiancai.ui",
    "jiancai.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After MessageMiddleware: a session timeout tells the user why with a message.
    "jiancai.accounts.middleware.SessionPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
# The stack of `/api/` requests (`jiancai.api.wsgi.ApiHandler`): they authenticate with a bearer token, so the
# session, CSRF, login, second-factor, message and session-policy layers have nothing to do for them, and no static
# file is under /api/.
API_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'jiancai.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers proceed while one writer writes; IMMEDIATE avoids upgrade deadlocks.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
    }

# Audit events queued by high-volume requests (each API request's token.use) are chained by a thread soon after
# commit (jiancai.audit.chaining); inline on SQLite, whose writers take turns anyway, and in tests.
_ON_SQLITE = DATABASES["default"]["ENGINE"].endswith("sqlite3")
AUDIT_CHAIN_INLINE = env("AUDIT_CHAIN_INLINE", "1" if _ON_SQLITE else "0") == "1"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "jiancai.accounts.passwords.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
]
PASSWORD_MAX_AGE_DAYS = env_int("PASSWORD_MAX_AGE_DAYS", 90)
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 15 * 60)
SESSION_IDLE_SECONDS = env_int("SESSION_IDLE_SECONDS", 30 * 60)
SESSION_ABSOLUTE_SECONDS = env_int("SESSION_ABSOLUTE_SECONDS", 8 * 60 * 60)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_SECONDS
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env("SECURE_COOKIES", "0") == "1"
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
OTP_TOTP_ISSUER = "建材监管平台"

# One language: every page, message and API error is in Simplified Chinese whatever the browser asks for (so no
# LocaleMiddleware).
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # also creates var/ for the SQLite default
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


def _derived_key(purpose: str) -> str:
    return hashlib.sha256(f"{purpose}:{SECRET_KEY}".encode()).hexdigest()


FIELD_ENCRYPTION_KEY = env("FIELD_ENCRYPTION_KEY") or _derived_key("field-encryption")
AUDIT_HMAC_KEY = env("AUDIT_HMAC_KEY") or _derived_key("audit-chain")
# Verification codes printed on test reports (portal.report_codes). A new key invalidates every printed code.
REPORT_CODE_KEY = env("REPORT_CODE_KEY") or _derived_key("report-code")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["jiancai.accounts.api_auth.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "jiancai.api.pagination.StandardPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "jiancai.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "建材监管平台 开放接口 jiancai API",
    "DESCRIPTION": "Registries (enterprises, qualifications, personnel, projects) of the jiancai platform. "
    "Authenticate with `Authorization: Bearer <token>`; tokens are issued per organization.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
}

# Bulk import (filings.imports): size limit and where uploads and error files are kept.
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 200 * 1024 * 1024)
IMPORT_DIR = Path(env("IMPORT_DIR") or BASE_DIR / "var" / "imports")

# Backend monitoring (monitoring.dispatch): incremental cross-checks as filings arrive. Tests run them inline.
MONITORING_AUTO = env("MONITORING_AUTO", "1") == "1"
MONITORING_RUN_INLINE = False
# Where attachments (alert explanations) are stored.
MEDIA_ROOT = Path(env("MEDIA_ROOT") or BASE_DIR / "var" / "media")
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024)

REDIS_URL = env("REDIS_URL")
# The cache (public portal pages, the portal's verification rate limit): Redis when configured, else per process.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "jiancai"}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "jiancai"}
    )
}
# Open API for e-commerce platforms (jiancai.openapi): requests per token ("<n>/<s|min|hour|day>"), and batch
# queries (up to 1,000 USCCs each) per token on top of that. Throttle counters live in CACHES.
OPENAPI_RATE = env("OPENAPI_RATE", "1200/min")
OPENAPI_BATCH_RATE = env("OPENAPI_BATCH_RATE", "120/min")
# Public disclosure portal (jiancai.portal): page cache lifetime; test-report checks allowed per address and window.
PORTAL_CACHE_SECONDS = env_int("PORTAL_CACHE_SECONDS", 300)
PORTAL_VERIFY_LIMIT = env_int("PORTAL_VERIFY_LIMIT", 20)
PORTAL_VERIFY_WINDOW_SECONDS = env_int("PORTAL_VERIFY_WINDOW_SECONDS", 600)
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING")},
}
