"""The test suite's settings: production's, with a test secret and a fast password hasher.

Nothing else changes: the cache, the upload rate limit, storage and middleware under test are the
ones that ship. The test command provides what production would (a Redis, collected static files).
"""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-" + "x" * 50)

from webapp.settings.production import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
