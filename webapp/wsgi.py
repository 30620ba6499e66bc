"""The WSGI application gunicorn serves."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings.production")
application = get_wsgi_application()

# gunicorn runs no system checks: refuse to serve with a PUBLIC_URL the SMS links cannot use.
from webapp.checks import refuse_to_start_on_errors  # noqa: E402

refuse_to_start_on_errors()

# Load the Redis cache client now, in this one thread. Left to the first requests, gunicorn's
# threads import it at the same moment, and the redis package's circular imports then fail with
# "partially initialized module" (500s right after a restart, seen in benchmarks/chaos.py).
from django.core.cache import caches  # noqa: E402

caches["default"]
