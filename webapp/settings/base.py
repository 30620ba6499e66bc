"""Settings every process shares, read from the environment with embedded defaults (SQLite, local
media, the shipped model, Redis on 127.0.0.1 or the embedded one ``make run`` starts).

``production`` adds what a deployment needs (secret, hosts, security headers, the cache and the
upload rate limit, storage); ``test`` is production with a test secret and a fast hasher.
Variables are read with django-environ through ``env`` below, so a bad value names its variable.
"""

from __future__ import annotations

from pathlib import Path

import django.conf.locale
import environ
from django.core.exceptions import ImproperlyConfigured

from classifier.classes import NOT_POTATO_LEAF


class Env(environ.Env):
    """django-environ, with errors that name the variable (``SMS_DELAY_SECONDS='soon'`` → says so)."""

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        try:
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except (ValueError, TypeError) as error:
            raise ImproperlyConfigured(f"The environment variable {var} has a bad value: {error}") from error


env = Env()
BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=False)

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
    # After the language (its answer is translated) and CSRF's cookie, before anything reads a body.
    "webapp.middleware.request_size.RequestSizeMiddleware",
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
    "default": {
        **env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
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
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/dashboard/"
LOGOUT_REDIRECT_URL = "/accounts/login/"


# Uploads: farmers' phones send photos already downscaled by the page; the limits are for the rest.
MAX_UPLOAD_BYTES = env.int("MAX_UPLOAD_BYTES", default=15 * 1024 * 1024)
MAX_UPLOAD_PIXELS = env.int("MAX_UPLOAD_PIXELS", default=40_000_000)
STORED_IMAGE_MAX_SIDE = env.int("STORED_IMAGE_MAX_SIDE", default=1024)
# A whole request: a case's photos (up to 6, classifier.decision.MAX_CASE_PHOTOS; phones without JavaScript
# or with HEIC send them unshrunk) plus room for the rest of the form. A request that declares more is
# refused (413) before its body is read (webapp.middleware.request_size; nginx's site says the same).
MAX_REQUEST_BYTES = 6 * MAX_UPLOAD_BYTES + 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024


# Redis: REDIS_URL, or the embedded Redis that `manage.py runstack` starts when it is unset.
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")

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
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
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
        "schedule": env.float("SWEEP_INTERVAL_SECONDS", default=60),
    },
    "fail-stale-training-runs": {"task": "training.tasks.fail_stale_training_runs", "schedule": 300.0},
    "resend-lost-verdict-sms": {
        "task": "classifier.tasks.resend_lost_verdict_sms",
        "schedule": env.float("SMS_SWEEP_INTERVAL_SECONDS", default=300),
    },
    "forget-phone-numbers": {"task": "classifier.tasks.forget_phone_numbers", "schedule": 3600.0},
    "forget-partial-originals": {"task": "classifier.tasks.forget_partial_originals", "schedule": 3600.0},
}
# The weekly retraining check is a django-celery-beat PeriodicTask (data migration), editable in the admin.


# The model.
INFERENCE_RUNTIME = env.str("INFERENCE_RUNTIME", default="classifier.runtimes.litert.LiteRTRuntime")
INFERENCE_THREADS = env.int("INFERENCE_THREADS", default=1)
DEFAULT_MODEL_DIR = BASE_DIR / "classifier" / "default_model"
# Model files from remote storage (S3) are copied here for the runtime to open.
MODEL_CACHE_DIR = Path(env.str("MODEL_CACHE_DIR", default=str(VAR_DIR / "model-cache")))
CLASSIFIER_UNSURE_BELOW = env.float("CLASSIFIER_UNSURE_BELOW", default=0.6)
REJECT_LABEL = NOT_POTATO_LEAF
# A pending submission older than this is enqueued again by the sweeper.
STALE_SUBMISSION_SECONDS = env.int("STALE_SUBMISSION_SECONDS", default=120)
# The answer in the upload's own response (classifier/submissions/answers.py): the longest a request may
# wait for the worker (the page asks for 2 s; on a slow link a second request costs a 2 s round trip
# anyway), and how many of a gunicorn process's threads may wait at once (the rest stay free).
ANSWER_WAIT_SECONDS = env.float("ANSWER_WAIT_SECONDS", default=2.0)
ANSWER_WAITERS_PER_PROCESS = env.int("ANSWER_WAITERS_PER_PROCESS", default=2)
# Runs of the model on one photo that may end without a prediction (the worker killed, out of
# memory, crashed) before the photo is marked failed and the farmer asked for another.
MAX_INFERENCE_ATTEMPTS = env.int("MAX_INFERENCE_ATTEMPTS", default=3)

# The officer's verdict by SMS. The site's public address makes the link in the message; a site
# that serves a public host name must set it (system check ``webapp.E001``, webapp/checks.py).
PUBLIC_URL = env.str("PUBLIC_URL", default="http://127.0.0.1:8000")
# Numbers the service texts: the regions it serves (ISO 3166 codes; the first one is how a number
# without its country code is read), and at most this many uploads with one number a day.
SMS_REGIONS = [code.strip().upper() for code in env.list("SMS_REGIONS", default=["UG"]) if code.strip()]
PHONENUMBER_DEFAULT_REGION = SMS_REGIONS[0] if SMS_REGIONS else "UG"
SMS_UPLOADS_PER_NUMBER_PER_DAY = env.int("SMS_UPLOADS_PER_NUMBER_PER_DAY", default=5)
SMS_BACKEND = env.str("SMS_BACKEND", default="classifier.sms.backends.ConsoleBackend")
AFRICASTALKING_USERNAME = env.str("AFRICASTALKING_USERNAME", default="")  # "sandbox" for the sandbox
AFRICASTALKING_API_KEY = env.str("AFRICASTALKING_API_KEY", default="")
AFRICASTALKING_SENDER_ID = env.str("AFRICASTALKING_SENDER_ID", default="")
# A verdict's SMS waits this long, so an officer who corrects herself sends one SMS, the latest.
SMS_DELAY_SECONDS = env.int("SMS_DELAY_SECONDS", default=60)
SMS_LOST_AFTER_SECONDS = env.int("SMS_LOST_AFTER_SECONDS", default=600)  # then the sweeper enqueues it
# A message claimed for sending with no answer recorded this long after (its worker died mid-send)
# is sent again by the sweeper: a second SMS is cheaper than none.
SMS_SENDING_TIMEOUT_SECONDS = env.int("SMS_SENDING_TIMEOUT_SECONDS", default=300)
SMS_MAX_ATTEMPTS = 9  # tries of one message (the task's 8 retries + 1), resends by the sweeper included
SMS_PHONE_RETENTION_DAYS = env.int("SMS_PHONE_RETENTION_DAYS", default=30)  # after the SMS went
SMS_PHONE_MAX_DAYS = env.int("SMS_PHONE_MAX_DAYS", default=90)  # after upload, answered or not

# Training: where the data lives and where ImageNet weights come from ("imagenet" downloads).
DATA_ROOT = Path(env.str("DATA_ROOT", default=str(BASE_DIR.parent / "shared" / "data")))
IMAGENET_WEIGHTS = env.str("IMAGENET_WEIGHTS", default="imagenet")

# Retraining on officers' labels (python manage.py retrain, the dashboard button, the schedule).
RETRAIN_BASE_DATA = Path(env.str("RETRAIN_BASE_DATA", default=str(DATA_ROOT / "plantvillage-potato")))
RETRAIN_NEGATIVES = [
    Path(p) for p in env.list("RETRAIN_NEGATIVES", default=[str(DATA_ROOT / "plantvillage-negatives")])
]
_DEFAULT_FIELD = f"{DATA_ROOT / 'field-potato'},{DATA_ROOT / 'field-potato-magelang'}"
RETRAIN_FIELD_DATA = [
    Path(p) for p in env.list("RETRAIN_FIELD_DATA", default=_DEFAULT_FIELD.split(","))
]  # field class folders
RETRAIN_FIELD_NEGATIVES = [
    Path(p) for p in env.list("RETRAIN_FIELD_NEGATIVES", default=[str(DATA_ROOT / "field-negatives")])
]
RETRAIN_WORK_DIR = Path(env.str("RETRAIN_WORK_DIR", default=str(VAR_DIR / "retraining")))
RETRAIN_MIN_NEW_LABELS = env.int("RETRAIN_MIN_NEW_LABELS", default=50)  # for the schedule
RETRAIN_MIN_CLASS_IMAGES = env.int("RETRAIN_MIN_CLASS_IMAGES", default=20)  # a new class joins
RETRAIN_EVALUATION_FRACTION = env.float("RETRAIN_EVALUATION_FRACTION", default=0.3)
RETRAIN_IMAGE_SIZE = env.int("RETRAIN_IMAGE_SIZE", default=None)  # None: the shipped recipe's input size
# An arm of training.field.protocol.ARMS ("": the shipped recipe); e.g. "balanced" trains a head on cached
# features only, a cheap run for demos.
RETRAIN_RECIPE = env.str("RETRAIN_RECIPE", default="")
RETRAIN_HEAD_EPOCHS = env.int("RETRAIN_HEAD_EPOCHS", default=40)  # a cap; early stopping ends sooner
RETRAIN_MAX_PER_CLASS = env.int("RETRAIN_MAX_PER_CLASS", default=None)
RETRAIN_STALE_SECONDS = env.int("RETRAIN_STALE_SECONDS", default=900)  # no heartbeat: the worker died
TRAINING_HEARTBEAT_SECONDS = env.int("TRAINING_HEARTBEAT_SECONDS", default=30)  # from a thread, while training
PROMOTION_ACCURACY_FLOOR = env.float("PROMOTION_ACCURACY_FLOOR", default=0.8)
PROMOTION_RECALL_TOLERANCE = env.float("PROMOTION_RECALL_TOLERANCE", default=0.05)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
