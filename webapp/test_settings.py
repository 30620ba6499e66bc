"""Settings for the test suite: the production settings with plain static files and fast hashing."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-" + "x" * 50)

from webapp.settings import *  # noqa: E402, F403
from webapp.settings import STORAGES  # noqa: E402

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
# Each test process counts its own uploads; the rate-limit tests set a low limit themselves.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]
UPLOAD_RATE_LIMIT = None
# Tests log in with the test client's login(), which django-axes cannot see; the throttling
# test turns it on.
AXES_ENABLED = False
