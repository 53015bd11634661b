"""The WSGI application gunicorn serves (`gunicorn opengov.wsgi:application`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opengov.settings")
# Django's application, behind the page cache's shortcut for stored answers (opengov/page_cache.py).
django_application = get_wsgi_application()

from django.core.cache import caches  # noqa: E402
from django.urls import get_resolver  # noqa: E402

from opengov.page_cache import StoredAnswers  # noqa: E402  (needs the apps, loaded just above)

# gunicorn loads this module once, in its master (preload_app), and forks the workers from it. What every
# request needs is loaded here, not by each new worker's first requests: the cache's client library and every
# view the URLs name. A new worker's first rendered page took 205 ms without it, 136 ms with it (measured on the
# plan page), and the requests queued behind it waited as long. Neither opens a connection.
caches["default"]._cache  # noqa: B018
get_resolver().url_patterns  # noqa: B018

application = StoredAnswers(django_application)
