"""The settings that ship: ``make run``, every deployed process, and (with a test secret) the tests.

On top of ``base``: the secret, hosts and security headers; the shared Redis cache that the upload
rate limit counts in; the client address behind trusted proxies; static and media storage.
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from webapp.settings.base import *  # noqa: F403
from webapp.settings.base import DEBUG, REDIS_URL, VAR_DIR, env


def read_secret_key() -> str:
    """SECRET_KEY from the environment, or from SECRET_KEY_FILE (``make install`` writes var/secret_key)."""
    if env.str("SECRET_KEY", default=""):
        return env.str("SECRET_KEY")
    key_file = Path(env.str("SECRET_KEY_FILE", default=str(VAR_DIR / "secret_key")))
    if key_file.exists():
        return key_file.read_text().strip()
    if DEBUG:
        from django.core.management.utils import get_random_secret_key

        return get_random_secret_key()
    raise ImproperlyConfigured("Set SECRET_KEY (or SECRET_KEY_FILE): it is required when DEBUG is off.")


SECRET_KEY = read_secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Security. HTTPS=1 behind a TLS-terminating proxy turns on secure cookies, redirects and HSTS.
HTTPS = env.bool("HTTPS", default=False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz"]
if env.bool("TRUST_X_FORWARDED_PROTO", default=HTTPS):
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

# The shared cache (django-redis). IGNORE_EXCEPTIONS: when Redis is unreachable a cache call
# returns nothing instead of raising, so the upload rate limit fails open and farmers' uploads
# are still accepted (docs/operators.md promises it; tests/test_faults.py proves it).
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "potato",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5, "IGNORE_EXCEPTIONS": True},
    }
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

# Uploads per client address (django-ratelimit, counted in the cache above); "" turns it off.
UPLOAD_RATE_LIMIT = env.str("UPLOAD_RATE_LIMIT", default="30/m").strip() or None
# Pieces of photos' larger copies, per client address (webapp/farmer/api.py photo_original).
ORIGINAL_RATE_LIMIT = env.str("ORIGINAL_RATE_LIMIT", default="120/m").strip() or None
RATELIMIT_FAIL_OPEN = True
# The client's address (webapp/client_ip.py, with django-ipware): REMOTE_ADDR, or, behind
# TRUSTED_PROXY_COUNT proxies that each append to X-Forwarded-For, the address the outermost of
# them saw. Entries a client wrote into the header itself are ignored, so it cannot dodge the limit.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "webapp.client_ip.client_ip"

# Static files: hashed names, compressed, served by WhiteNoise (run collectstatic first).
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
# S3-compatible media storage (django-storages) when a bucket is configured.
if env.str("AWS_STORAGE_BUCKET_NAME", default=""):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
