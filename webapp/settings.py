"""Settings, read from the environment with embedded defaults (SQLite, local media, the shipped model).

Environment variables: ``DEBUG``, ``SECRET_KEY`` (or ``SECRET_KEY_FILE``), ``ALLOWED_HOSTS``,
``HTTPS``, ``DATABASE_URL``, ``REDIS_URL``, ``MEDIA_ROOT`` or ``AWS_STORAGE_BUCKET_NAME`` (S3),
``IMAGENET_WEIGHTS``, ``DATA_ROOT``; README.md lists them all.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
import django.conf.locale
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def read_secret_key() -> str:
    """SECRET_KEY from the environment, or from SECRET_KEY_FILE (``make install`` writes var/secret_key)."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = Path(os.environ.get("SECRET_KEY_FILE", VAR_DIR / "secret_key"))
    if key_file.exists():
        return key_file.read_text().strip()
    if DEBUG:
        from django.core.management.utils import get_random_secret_key

        return get_random_secret_key()
    raise ImproperlyConfigured("Set SECRET_KEY (or SECRET_KEY_FILE): it is required when DEBUG is off.")


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = read_secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "django_ratelimit",
    "phonenumber_field",
    "axes",
    "webapp",
    "classifier",
    "training",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Pages are compressed for costly mobile data (static files come precompressed from WhiteNoise).
    # Django's GZipMiddleware pads its output against BREACH, and CSRF tokens are masked per request.
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The farmer's language: ?lang=, then the cookie, then Accept-Language (English by default).
    "webapp.middleware.language.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "webapp.middleware.database.DatabaseUnavailableMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Login throttling (django-axes): after 5 failures for one username from one address, that pair
# is locked out for 15 minutes (HTTP 429); a success resets the count.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True

ROOT_URLCONF = "webapp.urls"
WSGI_APPLICATION = "webapp.wsgi.application"

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

# Database: SQLite in var/ unless DATABASE_URL says otherwise (PostgreSQL in production).
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}", conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, workers and tests share one file: wait for locks instead of failing, and keep the
    # test database on disk so worker processes can open it.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "Africa/Kampala"
USE_I18N = True
USE_TZ = True

# Farmers' languages: English, Rukiga (Runyankore-Rukiga, ISO 639-3 `cgg`) and Kinyarwanda
# (Rufumbira in Kisoro). Django knows neither `cgg` nor `rw`: their LANG_INFO is added here.
LANGUAGES = [("en", "English"), ("cgg", "Rukiga"), ("rw", "Kinyarwanda")]
EXTRA_LANG_INFO = {
    "cgg": {"bidi": False, "code": "cgg", "name": "Rukiga", "name_local": "Rukiga"},
    "rw": {"bidi": False, "code": "rw", "name": "Kinyarwanda", "name_local": "Ikinyarwanda"},
}
django.conf.locale.LANG_INFO.update(EXTRA_LANG_INFO)
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "lang"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
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

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/dashboard/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# Security. HTTPS=1 behind a TLS-terminating proxy turns on secure cookies, redirects and HSTS.
HTTPS = env_bool("HTTPS", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz"]
if env_bool("TRUST_X_FORWARDED_PROTO", HTTPS):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'"],
        "manifest-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Uploads per client IP (django-ratelimit, counted in the shared Redis cache). Behind a proxy,
# set CLIENT_IP_HEADER=HTTP_X_FORWARDED_FOR so the farmer's address counts, not the proxy's.
UPLOAD_RATE_LIMIT = os.environ.get("UPLOAD_RATE_LIMIT", "30/m").strip() or None  # "" turns it off
RATELIMIT_FAIL_OPEN = True  # a Redis outage must not stop uploads
RATELIMIT_IP_META_KEY = os.environ.get("CLIENT_IP_HEADER") or None
# Django's own RedisCache increments atomically in Redis (INCRBY), which is all django-ratelimit
# needs; its check only knows django-redis by name.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]

# S3-compatible media storage (django-storages) when a bucket is configured.
if os.environ.get("AWS_STORAGE_BUCKET_NAME"):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["AWS_STORAGE_BUCKET_NAME"],
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }

# Uploads: farmers' phones send photos already downscaled by the page; the limits are for the rest.
MAX_UPLOAD_BYTES = int(os.environ.get("MAX_UPLOAD_BYTES", 15 * 1024 * 1024))
MAX_UPLOAD_PIXELS = int(os.environ.get("MAX_UPLOAD_PIXELS", 40_000_000))
STORED_IMAGE_MAX_SIDE = int(os.environ.get("STORED_IMAGE_MAX_SIDE", 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Redis: REDIS_URL, or the embedded Redis that `manage.py runstack` starts when it is unset.
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "potato",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A farmer's upload must not hang when Redis is down: publishing fails fast, the submission
# stays pending in the database, and the sweeper enqueues it again later.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", 3600)),
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
CELERY_TASK_ROUTES = {
    # Grad-CAM needs TensorFlow: it runs on the training worker, never the inference one.
    "classifier.tasks.compute_heatmap": {"queue": "training"},
    "classifier.tasks.*": {"queue": "inference"},
    "training.tasks.*": {"queue": "training"},
}
CELERY_TASK_DEFAULT_QUEUE = "inference"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "requeue-stale-submissions": {
        "task": "classifier.tasks.requeue_stale_submissions",
        "schedule": float(os.environ.get("SWEEP_INTERVAL_SECONDS", 60)),
    },
    "fail-stale-training-runs": {"task": "training.tasks.fail_stale_training_runs", "schedule": 300.0},
    "resend-lost-verdict-sms": {"task": "classifier.tasks.resend_lost_verdict_sms", "schedule": 300.0},
    "forget-phone-numbers": {"task": "classifier.tasks.forget_phone_numbers", "schedule": 3600.0},
}
# The weekly retraining check is a django-celery-beat PeriodicTask (data migration), editable in the admin.

# The model.
INFERENCE_RUNTIME = os.environ.get("INFERENCE_RUNTIME", "classifier.runtimes.litert.LiteRTRuntime")
INFERENCE_THREADS = int(os.environ.get("INFERENCE_THREADS", 1))
DEFAULT_MODEL_DIR = BASE_DIR / "classifier" / "default_model"
# Model files from remote storage (S3) are copied here for the runtime to open.
MODEL_CACHE_DIR = Path(os.environ.get("MODEL_CACHE_DIR", VAR_DIR / "model-cache"))
CLASSIFIER_UNSURE_BELOW = float(os.environ.get("CLASSIFIER_UNSURE_BELOW", 0.6))
REJECT_LABEL = "not_potato_leaf"
# A pending submission older than this is enqueued again by the sweeper.
STALE_SUBMISSION_SECONDS = int(os.environ.get("STALE_SUBMISSION_SECONDS", 120))

# The officer's verdict by SMS. The site's public address makes the link in the message.
PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://127.0.0.1:8000")
PHONENUMBER_DEFAULT_REGION = "UG"
SMS_BACKEND = os.environ.get("SMS_BACKEND", "classifier.sms.backends.ConsoleBackend")
AFRICASTALKING_USERNAME = os.environ.get("AFRICASTALKING_USERNAME", "")  # "sandbox" for the sandbox
AFRICASTALKING_API_KEY = os.environ.get("AFRICASTALKING_API_KEY", "")
AFRICASTALKING_SENDER_ID = os.environ.get("AFRICASTALKING_SENDER_ID", "")
# A verdict's SMS waits this long, so an officer who corrects herself sends one SMS, the latest.
SMS_DELAY_SECONDS = int(os.environ.get("SMS_DELAY_SECONDS", 60))
SMS_LOST_AFTER_SECONDS = int(os.environ.get("SMS_LOST_AFTER_SECONDS", 600))  # then the sweeper enqueues it
SMS_PHONE_RETENTION_DAYS = int(os.environ.get("SMS_PHONE_RETENTION_DAYS", 30))  # after the SMS went
SMS_PHONE_MAX_DAYS = int(os.environ.get("SMS_PHONE_MAX_DAYS", 90))  # after upload, answered or not

# Training: where the data lives and where ImageNet weights come from ("imagenet" downloads).
DATA_ROOT = Path(os.environ.get("DATA_ROOT", BASE_DIR.parent / "shared" / "data"))
IMAGENET_WEIGHTS = os.environ.get("IMAGENET_WEIGHTS", "imagenet")

# Retraining on officers' labels (python manage.py retrain, the dashboard button, the schedule).
RETRAIN_BASE_DATA = Path(os.environ.get("RETRAIN_BASE_DATA", DATA_ROOT / "plantvillage-potato"))
RETRAIN_NEGATIVES = [Path(p) for p in env_list("RETRAIN_NEGATIVES", str(DATA_ROOT / "plantvillage-negatives"))]
_DEFAULT_FIELD = f"{DATA_ROOT / 'field-potato'},{DATA_ROOT / 'field-potato-magelang'}"
RETRAIN_FIELD_DATA = [Path(p) for p in env_list("RETRAIN_FIELD_DATA", _DEFAULT_FIELD)]  # field class folders
RETRAIN_FIELD_NEGATIVES = [Path(p) for p in env_list("RETRAIN_FIELD_NEGATIVES", str(DATA_ROOT / "field-negatives"))]
RETRAIN_WORK_DIR = Path(os.environ.get("RETRAIN_WORK_DIR", VAR_DIR / "retraining"))
RETRAIN_MIN_NEW_LABELS = int(os.environ.get("RETRAIN_MIN_NEW_LABELS", 50))  # for the schedule
RETRAIN_MIN_CLASS_IMAGES = int(os.environ.get("RETRAIN_MIN_CLASS_IMAGES", 20))  # a new class joins
RETRAIN_EVALUATION_FRACTION = float(os.environ.get("RETRAIN_EVALUATION_FRACTION", 0.3))
RETRAIN_IMAGE_SIZE = int(os.environ.get("RETRAIN_IMAGE_SIZE", 128))
RETRAIN_HEAD_EPOCHS = int(os.environ.get("RETRAIN_HEAD_EPOCHS", 40))  # a cap; early stopping ends sooner
RETRAIN_MAX_PER_CLASS = int(os.environ["RETRAIN_MAX_PER_CLASS"]) if os.environ.get("RETRAIN_MAX_PER_CLASS") else None
RETRAIN_STALE_SECONDS = int(os.environ.get("RETRAIN_STALE_SECONDS", 900))  # no heartbeat: the worker died
PROMOTION_ACCURACY_FLOOR = float(os.environ.get("PROMOTION_ACCURACY_FLOOR", 0.8))
PROMOTION_RECALL_TOLERANCE = float(os.environ.get("PROMOTION_RECALL_TOLERANCE", 0.05))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
