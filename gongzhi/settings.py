"""Gongzhi settings: one module, driven by environment variables.

GONGZHI_ENV selects the mode: ``demo`` (DEBUG on, SQLite, insecure key allowed), ``test``
(chosen automatically under pytest) or ``production`` (the default: SECRET_KEY required,
secure cookies, HTTPS redirect). Demo mode is the only mode with DEBUG on.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent


def envbool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def database_from_url(url: str) -> dict:
    """Translate ``sqlite:///path`` or ``postgres://user:pass@host:port/name`` into Django's form."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path[1:] if parsed.path.startswith("/") else parsed.path) or ":memory:"
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path,
            "OPTIONS": {
                # WAL lets readers go on while one writer writes; IMMEDIATE takes the write lock
                # at BEGIN so two writers queue on busy_timeout instead of failing mid-transaction.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA foreign_keys=ON; PRAGMA cache_size=-64000;",
            },
        }
    if parsed.scheme in {"postgres", "postgresql", "pgsql"}:
        options = dict(parse_qsl(parsed.query))
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": envint("DB_CONN_MAX_AGE", 60),
            "OPTIONS": options,
        }
    raise ImproperlyConfigured(f"DATABASE_URL scheme {parsed.scheme!r} is not supported")


GONGZHI_ENV = os.environ.get("GONGZHI_ENV") or ("test" if "pytest" in sys.modules else "production")
if GONGZHI_ENV not in {"demo", "test", "production"}:
    raise ImproperlyConfigured("GONGZHI_ENV must be demo, test or production")
DEMO = GONGZHI_ENV == "demo"
TESTING = GONGZHI_ENV == "test"

DEBUG = envbool("DEBUG", DEMO)
if DEBUG and not DEMO:
    raise ImproperlyConfigured("DEBUG may only be on in demo mode (GONGZHI_ENV=demo)")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if GONGZHI_ENV == "production":
        raise ImproperlyConfigured("SECRET_KEY must be set outside demo and test mode")
    SECRET_KEY = "gongzhi-insecure-demo-key-not-for-production"  # noqa: S105

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if GONGZHI_ENV != "production" else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

DATA_DIR = Path(os.environ.get("GONGZHI_DATA_DIR", PROJECT_DIR / "var"))
if "DATABASE_URL" not in os.environ:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": database_from_url(os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'gongzhi.sqlite3'}"))
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "gongzhi.core",
    "gongzhi.orgs",
    "gongzhi.housing",
    "gongzhi.coverage",
    "gongzhi.tickets",
    "gongzhi.dashboards",
    "gongzhi.decisions",
    "gongzhi.consultations",
    "gongzhi.meetings",
    "gongzhi.projects",
    "gongzhi.volunteers",
    "gongzhi.notices",
    # django-ninja's templates and bundled Swagger UI files, for the offline API docs page.
    "ninja",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "gongzhi.urls"
WSGI_APPLICATION = "gongzhi.wsgi.application"

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
                "gongzhi.core.context.site",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", DATA_DIR / "static"))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", DATA_DIR / "media"))

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

CACHES = {
    "default": {
        "BACKEND": os.environ.get("CACHE_BACKEND", "django.core.cache.backends.locmem.LocMemCache"),
        "LOCATION": os.environ.get("CACHE_LOCATION", "gongzhi"),
    }
}

# Uploads: imports stream from a temporary file; anything larger is refused before parsing.
GONGZHI_MAX_IMPORT_BYTES = envint("GONGZHI_MAX_IMPORT_BYTES", 40 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Rate limits: attempts per window (seconds) per client address and per account name.
GONGZHI_LOGIN_RATE = (envint("GONGZHI_LOGIN_ATTEMPTS", 10), envint("GONGZHI_LOGIN_WINDOW", 900))
# Public base URL printed on QR posters; requests build it from the host when unset.
GONGZHI_PUBLIC_URL = os.environ.get("GONGZHI_PUBLIC_URL", "")
# Reverse proxies in front of the app that append to X-Forwarded-For (0: use REMOTE_ADDR).
GONGZHI_PROXY_COUNT = envint("GONGZHI_PROXY_COUNT", 0)
# Public intake: requests per hour per client address and per phone number.
GONGZHI_INTAKE_RATE = (envint("GONGZHI_INTAKE_PER_IP", 20), envint("GONGZHI_INTAKE_PER_PHONE", 5), 3600)
# Photos: largest accepted upload and how many per request or reply.
GONGZHI_MAX_PHOTO_BYTES = envint("GONGZHI_MAX_PHOTO_BYTES", 8 * 1024 * 1024)
GONGZHI_MAX_PHOTOS = envint("GONGZHI_MAX_PHOTOS", 4)
# Community projects and volunteers: the largest amount of one ledger entry (yuan), volunteer
# points per hour and the hours counted at most per activity (DOMAIN §5, practice).
GONGZHI_MAX_AMOUNT = envint("GONGZHI_MAX_AMOUNT", 10_000_000)
GONGZHI_POINTS_PER_HOUR = envint("GONGZHI_POINTS_PER_HOUR", 1)
GONGZHI_MAX_HOURS_PER_ACTIVITY = envint("GONGZHI_MAX_HOURS_PER_ACTIVITY", 2)
# KPI weights (response, resolution, satisfaction) and the smallest sample for medians.
GONGZHI_KPI_WEIGHTS = tuple(int(w) for w in envlist("GONGZHI_KPI_WEIGHTS", "30,35,35"))
GONGZHI_KPI_MIN_COUNT = envint("GONGZHI_KPI_MIN_COUNT", 5)
# Days a meeting's notice goes out ahead, per kind, e.g. "joint=5,hall=2". The statutory ones
# (owners' committee 7, owners' assembly 15) may be lengthened, never shortened.
GONGZHI_MEETING_NOTICE_DAYS: dict[str, int] = {}
for _pair in envlist("GONGZHI_MEETING_NOTICE_DAYS"):
    _kind, _sep, _days = _pair.partition("=")
    if _kind.strip() not in {"joint", "hall", "committee", "assembly"} or not _days.strip().isdigit():
        raise ImproperlyConfigured(f"GONGZHI_MEETING_NOTICE_DAYS: cannot read {_pair!r} (kind=days)")
    if int(_days) < {"committee": 7, "assembly": 15}.get(_kind.strip(), 0):
        raise ImproperlyConfigured(f"GONGZHI_MEETING_NOTICE_DAYS: {_pair!r} is shorter than the law allows")
    GONGZHI_MEETING_NOTICE_DAYS[_kind.strip()] = int(_days)
# Notification adapters by channel: inbox is in-app; SMS prints to the console by default.
GONGZHI_NOTIFY_BACKENDS = {
    "inbox": "gongzhi.tickets.notify.InboxBackend",
    "email": "gongzhi.tickets.notify.EmailBackend",
    "sms": os.environ.get("GONGZHI_SMS_BACKEND", "gongzhi.tickets.notify.ConsoleSmsBackend"),
    "wechat": os.environ.get("GONGZHI_WECHAT_BACKEND", "gongzhi.tickets.notify.WeChatTemplateBackend"),
}
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "gongzhi@localhost")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 8 * 3600)
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if GONGZHI_ENV == "production":
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if envbool("BEHIND_PROXY", True) else None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

GONGZHI_NAME = _("Gongzhi co-governance")
